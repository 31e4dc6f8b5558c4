# ruff: noqa: E501 - one sample sentence per line
"""Enrichment cost per enricher and in total, on a ~4 KB article per language (prints only).

    .venv/bin/python bench/enrich.py [repeats]

Each measurement starts from a fresh ``Document`` (tokens and sentences are lazy and cached per
document, so the first enricher that needs them pays for them: ``text`` measures that cost on
its own). Medians of round-robin timings (one call per column per round), because the machine
is shared. Target: total < 2 ms including detection.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from monitor.article import Article
from monitor.enrich import Enricher
from monitor.settings import SUPPORTED_LANGUAGES
from monitor.text import Document, analyse

SIZE = 4096

# A few sentences per language, written for this benchmark, repeated to ~4 KB.
SAMPLES = {
    "nl": "Russische troepen zijn dinsdag in Kazachstan aangekomen. Volgens president Tokajev vielen zeker 164 doden bij de onlusten. De Collectieve Veiligheidsverdragsorganisatie stuurde 2.030 soldaten en 250 voertuigen naar het land. Het parlement steunde Alikhan Smailov als nieuwe premier. ",
    "en": "Russian troops arrived in Kazakhstan on Tuesday. According to President Tokayev at least 164 people were killed in the unrest. The CSTO sent 2,030 soldiers and 250 vehicles to the country. Parliament approved Alikhan Smailov, the new prime minister. ",
    "de": "Russische Truppen sind am Dienstag in Kasachstan eingetroffen. Nach Angaben von Präsident Tokajew gab es mindestens 164 Tote. Die OVKS schickte 2.030 Soldaten und 250 Fahrzeuge in das Land. Das Parlament bestätigte Alichan Smailow als neuen Ministerpräsidenten. ",
    "fr": "Des troupes russes sont arrivées mardi au Kazakhstan. Selon le président Tokaïev, au moins 164 personnes ont été tuées. L'OTSC a envoyé 2 030 soldats et 250 véhicules dans le pays. Le Parlement a approuvé le Premier ministre Alikhan Smaïlov. ",
    "ru": "Российские военные прибыли во вторник в Казахстан. По словам президента Токаева, погибли не менее 164 человек. ОДКБ направила в страну 2 030 военнослужащих и 250 единиц техники. Парламент утвердил премьер-министра Алихана Смаилова. ",
    "es": "Tropas rusas llegaron el martes a Kazajistán. Según el presidente Tokáyev, al menos 164 personas murieron. La OTSC envió 2.030 soldados y 250 vehículos al país. El Parlamento aprobó al primer ministro Alikhan Smailov. ",
    "pl": "Rosyjscy żołnierze przybyli we wtorek do Kazachstanu. Według prezydenta Tokajewa zginęło co najmniej 164 osób. OUBZ wysłała do kraju 2 030 żołnierzy i 250 pojazdów. Parlament zatwierdził premiera Ałichana Smaiłowa. ",
}  # fmt: skip


def median_us(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median µs of each function, timed round-robin (one call of each per round), so a busy
    spell on a shared machine lands on all columns of a row alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1e6 for name, t in times.items()}


def fresh_document(body: str, lang: str) -> Document:
    doc = Document(body, lang)
    _ = doc.tokens, doc.sentences
    return doc


def full(enricher: Enricher, article: Article) -> object:
    info = enricher.detect_language(article)
    return enricher.analyse(analyse(article.body, info.code))


def row(enricher: Enricher, lang: str, sample: str, repeats: int) -> dict[str, float]:
    body = (sample * (SIZE // len(sample) + 1))[:SIZE]
    article = Article(
        id="bench",
        url="https://example.org/bench",
        title=sample.split(".")[0],
        text=body,
        source="bench",
        published_at=datetime(2024, 1, 1, tzinfo=UTC),
        language=lang,
    )
    doc = fresh_document(article.body, lang)  # tokens and sentences already paid
    hits = enricher.countries.hits(doc)
    countries = enricher.countries
    return median_us(
        {
            "detect": partial(enricher.detect_language, article),
            "text": partial(fresh_document, article.body, lang),
            "countries": lambda: countries.countries(doc, countries.hits(doc)),
            "orgs": partial(enricher.organisations.organisations, doc),
            "people": partial(enricher.people.people, doc, hits),
            "figures": partial(enricher.figures.figures, doc),
            "enrich": partial(enricher.analyse, doc),
            "total": partial(full, enricher, article),
        },
        repeats,
    )


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    start = time.perf_counter()
    enricher = Enricher.load(SUPPORTED_LANGUAGES)
    print(f"load: {time.perf_counter() - start:.2f} s (nine languages, lingua models preloaded)")
    columns = ("detect", "text", "countries", "orgs", "people", "figures", "enrich", "total")
    print("lang " + "".join(f"{c:>10}" for c in columns) + f"   median µs over {repeats} runs")
    totals: list[float] = []
    for lang, sample in SAMPLES.items():
        figures = row(enricher, lang, sample, repeats)
        totals.append(figures["total"])
        print(f"{lang:5}" + "".join(f"{figures[c]:>10.0f}" for c in columns))
    print(f"median total over languages: {statistics.median(totals):.0f} µs (target < 2000 µs)")
    print("text = fold + tokens + sentences (monitor.text, shared with the rule engine);")
    print(
        "enrich = Enricher.analyse on a document whose tokens exist; total = detect + text + enrich"
    )


if __name__ == "__main__":
    main()
