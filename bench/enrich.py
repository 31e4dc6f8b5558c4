"""Enrichment cost per enricher and in total, on a ~4 KB article per language (prints only).

    .venv/bin/python bench/enrich.py [repeats]

Each measurement starts from a fresh ``Document`` (tokens and sentences are lazy and cached per
document, so the first enricher that needs them pays for them: ``text`` measures that cost on
its own). Medians, because the machine is shared. Target: total < 2 ms including detection.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

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


def median_us(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    start = time.perf_counter()
    enricher = Enricher.load(SUPPORTED_LANGUAGES)
    print(f"load: {time.perf_counter() - start:.2f} s (all nine languages, models preloaded)")
    header = f"{'lang':5}{'detect':>9}{'text':>8}{'countries':>11}{'orgs':>8}{'people':>8}{'figures':>9}{'analyse':>9}{'total':>9}  (median µs, {repeats} runs)"
    print(header)
    for lang, sample in SAMPLES.items():
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
        prepared = Document(body, lang)
        _ = prepared.tokens, prepared.sentences  # enrichers alone, tokens already paid

        def text_only(body: str = body, lang: str = lang) -> object:
            doc = Document(body, lang)
            return doc.tokens, doc.sentences

        def full(article: Article = article) -> object:
            info = enricher.detect_language(article)
            return enricher.analyse(analyse(article.body, info.code))

        hits = enricher.countries.hits(prepared)
        row = {
            "detect": median_us(lambda a=article: enricher.detect_language(a), repeats),
            "text": median_us(text_only, repeats),
            "countries": median_us(
                lambda d=prepared: enricher.countries.countries(d, enricher.countries.hits(d)),
                repeats,
            ),
            "orgs": median_us(lambda d=prepared: enricher.organisations.organisations(d), repeats),
            "people": median_us(lambda d=prepared, h=hits: enricher.people.people(d, h), repeats),
            "figures": median_us(lambda d=prepared: enricher.figures.figures(d), repeats),
            "analyse": median_us(lambda: enricher.analyse(text_only_doc(body, lang)), repeats),
            "total": median_us(full, repeats),
        }
        cells = "".join(f"{v:>{w}.0f}" for v, w in zip(row.values(), (9, 8, 11, 8, 8, 9, 9, 9), strict=True))
        print(f"{lang:5}{cells}")
    print("total = detect_language + text.analyse + analyse (fresh document each run); target < 2000 µs")


def text_only_doc(body: str, lang: str) -> Document:
    return Document(body, lang)


if __name__ == "__main__":
    main()
