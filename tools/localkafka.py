"""A real single-node Apache Kafka broker (KRaft, no Docker) for development and tests.

The jars come from Maven Central through Maven (``tools/kafka/pom.xml``), fetched once into a cache
folder and reused; the broker is a plain ``java`` process listening on 127.0.0.1 only.

    python -m tools.localkafka fetch
    python -m tools.localkafka start [--port N] [--controller-port N]
                                     [--data-dir DIR] [--state-dir DIR]
    python -m tools.localkafka stop [--state-dir DIR]

``start`` prints ``KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:<port>`` once the broker serves requests.
Restarting on the same data dir keeps the data (a formatted log dir is never re-formatted).

Standard library only, so it runs before (and without) the project's virtualenv. Environment:
``MONITOR_KAFKA_CACHE`` (cache root, default ``<repo>/.cache/kafka``; the jars of a version go
to ``<root>/<version>/libs``), ``MONITOR_KAFKA_VERSION`` (default ``KAFKA_VERSION``),
``JAVA_HOME``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

KAFKA_VERSION = "4.3.0"
REPO_ROOT = Path(__file__).resolve().parent.parent
POM = REPO_ROOT / "tools" / "kafka" / "pom.xml"
DEFAULT_STATE_DIR = REPO_ROOT / ".cache" / "kafka" / "run"
HOST = "127.0.0.1"
READY_LINE = "Kafka Server started"
_MARKER = ".complete"
_PID_FILE = "kafka.pid"
_LOG_FILE = "kafka.log"


class LocalKafkaError(Exception):
    """Fetching, starting or stopping the local broker failed; the message is one clear line
    (plus the tail of the broker log when the broker died)."""


def cache_dir(version: str = KAFKA_VERSION, environ: Mapping[str, str] | None = None) -> Path:
    """The folder holding the jars of ``version``: ``$MONITOR_KAFKA_CACHE/<version>``."""
    env = os.environ if environ is None else environ
    root = env.get("MONITOR_KAFKA_CACHE") or str(REPO_ROOT / ".cache" / "kafka")
    return Path(root).expanduser().resolve() / version


def _mvn_error(output: str) -> str:
    """The most telling line of a failed Maven run (the first non-empty ``[ERROR]`` line)."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)
    lines = [line.strip() for line in plain.splitlines() if line.strip()]
    for line in lines:
        _, marker, message = line.partition("[ERROR]")
        message = message.removesuffix("-> [Help 1]").strip()
        if marker and message:
            return message
    return lines[-1] if lines else "no output"


def fetch(version: str = KAFKA_VERSION, cache: Path | None = None) -> Path:
    """Copy the broker jars of ``version`` into ``<cache>/libs`` once; return that folder.

    A marker file is written only after a complete copy, so an interrupted fetch is redone.
    Concurrent fetches (two test sessions) serialise on a lock file.
    """
    cache = cache_dir(version) if cache is None else cache
    libs = cache / "libs"
    marker = cache / _MARKER
    if marker.is_file():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalKafkaError("Maven (mvn) not found on PATH; install it (apt-get install maven)")
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file():  # another process finished the fetch while we waited
            return libs
        partial = cache / "libs.partial"
        shutil.rmtree(partial, ignore_errors=True)
        cmd = [
            mvn,
            "-q",
            "-B",
            "-Dstyle.color=never",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-Dkafka.version={version}",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={partial}",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            detail = _mvn_error(done.stdout + "\n" + done.stderr)
            raise LocalKafkaError(f"Maven could not fetch Kafka {version}: {detail}")
        if not (partial / f"kafka_2.13-{version}.jar").is_file():
            raise LocalKafkaError(f"Maven ran but kafka_2.13-{version}.jar is not in {partial}")
        shutil.rmtree(libs, ignore_errors=True)
        partial.rename(libs)
        jars = sorted(p.name for p in libs.glob("*.jar"))
        marker.write_text(f"kafka {version}\n" + "\n".join(jars) + "\n")
    return libs


def find_java(environ: Mapping[str, str] | None = None) -> str:
    """The ``java`` executable: ``$JAVA_HOME/bin/java`` or the one on PATH."""
    env = os.environ if environ is None else environ
    home = env.get("JAVA_HOME")
    if home and os.access(Path(home) / "bin" / "java", os.X_OK):
        return str(Path(home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise LocalKafkaError("Java not found (no JAVA_HOME, no java on PATH); install Java 17+")
    return java


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def check_port_free(port: int, what: str = "port") -> None:
    """Raise ``LocalKafkaError`` if something already listens on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the JVM's ServerSocket: TIME_WAIT leftovers of a previous broker do not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            raise LocalKafkaError(
                f"{what} {HOST}:{port} is already in use ({exc.strerror}); "
                "stop whatever listens there or pick another port"
            ) from exc


def api_versions_ok(port: int, timeout: float = 2.0) -> bool:
    """True when 127.0.0.1:``port`` answers a Kafka ApiVersions request without error."""
    client_id = b"localkafka"
    body = struct.pack(">hhih", 18, 0, 1, len(client_id)) + client_id  # ApiVersions v0
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = _recv_exact(sock, 4)
            (size,) = struct.unpack(">i", header)
            payload = _recv_exact(sock, size)
    except OSError:
        return False
    correlation_id, error_code = struct.unpack(">ih", payload[:6])
    return bool(correlation_id == 1 and error_code == 0)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed by the broker")
        chunks += chunk
    return bytes(chunks)


def random_cluster_id() -> str:
    """A cluster id in Kafka's format (``Uuid.randomUuid()``: url-safe base64 of 16 bytes).

    Like Kafka's own generator, never one that starts with ``-``: the storage tool's argument
    parser would take it for an option (1 start in 64 failed with "expected one argument").
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":  # zombie: dead, not yet reaped
            return False
    return True


def _is_kafka(pid: int) -> bool:
    """Guard against a recycled PID: the process must be a java running ``kafka.Kafka``."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        return b"kafka.Kafka" in cmdline.read_bytes()
    except OSError:
        return not Path("/proc").is_dir()  # no procfs: trust the PID file


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


LOG4J2_PROPERTIES = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
"""


class Broker:
    """One KRaft broker+controller process on 127.0.0.1, with its files in ``state_dir``.

    ``start()`` fetches the jars if needed, formats ``data_dir`` unless already formatted, starts
    java in the background and returns once the broker serves requests. ``stop()`` terminates it by
    PID (SIGTERM, then SIGKILL after ``timeout``) and is safe to call twice, also from another
    process that only knows ``state_dir`` (the PID file).
    """

    def __init__(
        self,
        state_dir: Path = DEFAULT_STATE_DIR,
        *,
        port: int = 9092,
        controller_port: int = 9093,
        data_dir: Path | None = None,
        version: str = KAFKA_VERSION,
        cache: Path | None = None,
        heap: str = "512m",
        startup_timeout: float = 90.0,
    ) -> None:
        if port == controller_port:
            raise LocalKafkaError(f"port and controller port must differ, both are {port}")
        self.state_dir = Path(state_dir).resolve()
        self.data_dir = (self.state_dir / "data" if data_dir is None else Path(data_dir)).resolve()
        self.port = port
        self.controller_port = controller_port
        self.version = version
        self.cache = cache_dir(version) if cache is None else cache
        self.heap = heap
        self.startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """The ``host:port`` clients connect to."""
        return f"{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        """Everything the broker writes (stdout and stderr of the java process)."""
        return self.state_dir / _LOG_FILE

    @property
    def pid_path(self) -> Path:
        return self.state_dir / _PID_FILE

    def __repr__(self) -> str:
        return f"Broker({self.bootstrap}, state_dir={str(self.state_dir)!r})"

    def __enter__(self) -> Broker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- lifecycle -------------------------------------------------------------------------------

    def pid(self) -> int | None:
        """The PID of the running broker of this state dir, or None."""
        if self._proc is not None:
            return self._proc.pid if self._proc.poll() is None else None
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _pid_alive(pid) and _is_kafka(pid) else None

    def configured_port(self) -> int | None:
        """The client port in the ``server.properties`` of the state dir (of a previous start)."""
        try:
            text = (self.state_dir / "server.properties").read_text()
        except OSError:
            return None
        found = re.search(r"^advertised\.listeners=PLAINTEXT://[^:]+:(\d+)$", text, re.MULTILINE)
        return int(found.group(1)) if found else None

    def start(self) -> None:
        """Start the broker and wait until it serves requests; raise ``LocalKafkaError`` if not."""
        if self.pid() is not None:
            raise LocalKafkaError(
                f"a broker of {self.state_dir} is already running (pid {self.pid()}); stop it first"
            )
        check_port_free(self.port, "Kafka port")
        check_port_free(self.controller_port, "Kafka controller port")
        java = find_java()
        libs = fetch(self.version, self.cache)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        props = self.state_dir / "server.properties"
        props.write_text(self._server_properties())
        log4j = self.state_dir / "log4j2.properties"
        log4j.write_text(LOG4J2_PROPERTIES)
        jvm = [
            java,
            f"-Xmx{self.heap}",
            "-Xms128m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile=file:{log4j}",
            "-cp",
            f"{libs}/*",
        ]
        if not (self.data_dir / "meta.properties").is_file():
            self._format(jvm, props)
        with open(self.log_path, "ab") as log:
            offset = log.tell()
            log.write(
                f"--- localkafka: starting Kafka {self.version} on {self.bootstrap}\n".encode()
            )
            log.flush()
            self._proc = subprocess.Popen(
                [*jvm, "kafka.Kafka", str(props)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.state_dir,
                start_new_session=True,  # survives the CLI, not killed by the terminal's Ctrl-C
            )
        self.pid_path.write_text(f"{self._proc.pid}\n")
        try:
            self._wait_ready(offset)
        except BaseException:
            self.stop(timeout=5)
            raise

    def stop(self, timeout: float = 30.0) -> None:
        """Terminate the broker (SIGTERM, SIGKILL after ``timeout`` s) and wait for it to exit."""
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not self._wait_exit(pid, timeout):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                self._wait_exit(pid, 10.0)
        self._proc = None
        self.pid_path.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL the broker at once (a crash, for fault tests); the data dir stays usable."""
        self.stop(timeout=0)

    # -- internals -------------------------------------------------------------------------------

    def _server_properties(self) -> str:
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{HOST}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            # We create topics explicitly (monitor.topics.ensure_topics; faust via CreateTopics).
            "auto.create.topics.enable": "false",
            "num.partitions": "1",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # Tests: no 3 s wait before the first rebalance of a new group.
            "group.initial.rebalance.delay.ms": "0",
            # Faster startup of a one-node quorum: quicker self-election and unfencing.
            "controller.quorum.election.timeout.ms": "300",
            "broker.heartbeat.interval.ms": "300",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "num.recovery.threads.per.data.dir": "1",
            "log.retention.check.interval.ms": "300000",
        }
        return "".join(f"{key}={value}\n" for key, value in props.items())

    def _format(self, jvm: list[str], props: Path) -> None:
        cmd = [
            *jvm,
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            random_cluster_id(),
            "--config",
            str(props),
            "--ignore-formatted",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            output = [line.strip() for line in (done.stdout + done.stderr).splitlines()]
            detail = " | ".join(line for line in output if line) or f"exit code {done.returncode}"
            raise LocalKafkaError(f"formatting {self.data_dir} failed: {detail}")

    def _wait_ready(self, log_offset: int) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        started = False
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                raise LocalKafkaError(
                    f"Kafka broker exited early with code {code}; "
                    f"last 30 lines of {self.log_path}:\n{_tail(self.log_path)}"
                )
            if not started:
                with open(self.log_path, "rb") as log:
                    log.seek(log_offset)
                    started = READY_LINE.encode() in log.read()
            # The log line means the broker caught up with the controller's metadata; the
            # ApiVersions round trip means its socket server really accepts requests.
            if started and api_versions_ok(self.port):
                return
            time.sleep(0.2)
        raise LocalKafkaError(
            f"Kafka broker not ready after {self.startup_timeout:g} s; last 30 lines of "
            f"{self.log_path}:\n" + _tail(self.log_path)
        )

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        deadline = time.monotonic() + timeout
        while _pid_alive(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True


# -- command line ---------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.localkafka", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="download the Kafka jars into the cache (once)")
    start = sub.add_parser("start", help="start a broker in the background")
    start.add_argument("--port", type=int, default=9092)
    start.add_argument("--controller-port", type=int, default=9093)
    start.add_argument("--data-dir", type=Path, default=None, help="default: <state-dir>/data")
    start.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    stop = sub.add_parser("stop", help="stop the broker of a state dir")
    stop.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    return parser


@contextlib.contextmanager
def _timed(what: str) -> Iterator[None]:
    began = time.monotonic()
    yield
    print(f"localkafka: {what} in {time.monotonic() - began:.1f} s", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    version = os.environ.get("MONITOR_KAFKA_VERSION") or KAFKA_VERSION
    try:
        if args.command == "fetch":
            with _timed(f"Kafka {version} jars ready"):
                libs = fetch(version)
            print(libs)
        elif args.command == "start":
            broker = Broker(
                args.state_dir,
                port=args.port,
                controller_port=args.controller_port,
                data_dir=args.data_dir,
                version=version,
            )
            running = broker.pid()
            running_port = broker.configured_port()
            if running is not None and running_port is not None and api_versions_ok(running_port):
                # Idempotent for `make demo`: the broker of this state dir already serves.
                print(f"localkafka: already running (pid {running})", file=sys.stderr)
                print(f"KAFKA_BOOTSTRAP_SERVERS={HOST}:{running_port}")
                return 0
            with _timed(f"Kafka {version} started (pid file {broker.pid_path})"):
                broker.start()
            print(f"KAFKA_BOOTSTRAP_SERVERS={broker.bootstrap}")
        elif args.command == "stop":
            broker = Broker(args.state_dir)
            if broker.pid() is None:
                print(f"localkafka: no broker running for {broker.state_dir}", file=sys.stderr)
            broker.stop()
    except LocalKafkaError as exc:
        print(f"localkafka: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
