"""Settings that people read, in the reader's language.

PROGRAMME_NAME, FUNDER_NOTICE and the certificate's signatory name and title are settings, so
they cannot go through the catalogues. Each may be given per language: as a dictionary
(`PROGRAMME_NAME = {"en": "…", "ka": "…"}` in instance/config.py), or as `PROGRAMME_NAME_KA`
and so on (environment or instance/config.py). A language without its own text falls back to
the plain setting. While a setting keeps its built-in English default, the built-in
translations below are used, so a fresh deployment shows no English in other languages.
"""
from __future__ import annotations

from flask import current_app

from app.config import Defaults

LOCALISED_SETTINGS = ("PROGRAMME_NAME", "FUNDER_NOTICE", "CERTIFICATE_SIGNATORY_NAME",
                      "CERTIFICATE_SIGNATORY_TITLE")

_PROGRAMME = {
    "ka": "სამოქალაქო საზოგადოების განვითარების პროექტი",
    "az": "Vətəndaş Cəmiyyətinin İnkişafı Layihəsi",
    "hy": "Քաղաքացիական հասարակության զարգացման ծրագիր",
    "ru": "Проект развития гражданского общества",
}

BUILT_IN: dict[str, dict[str, str]] = {
    "PROGRAMME_NAME": _PROGRAMME,
    "CERTIFICATE_SIGNATORY_TITLE": _PROGRAMME,
    "CERTIFICATE_SIGNATORY_NAME": {
        "ka": "პროგრამის კოორდინატორი",
        "az": "Proqram koordinatoru",
        "hy": "Ծրագրի համակարգող",
        "ru": "Координатор программы",
    },
    "FUNDER_NOTICE": {
        "ka": "ეს პლატფორმა შეიქმნა ევროკავშირის ფინანსური მხარდაჭერით. მის შინაარსზე პასუხისმგებელია "
              "მხოლოდ პროგრამა და ის შესაძლოა არ ასახავდეს ევროკავშირის შეხედულებებს.",
        "az": "Bu platforma Avropa İttifaqının maliyyə dəstəyi ilə hazırlanmışdır. Onun məzmununa görə "
              "yalnız proqram məsuliyyət daşıyır və o, Avropa İttifaqının baxışlarını əks etdirməyə bilər.",
        "hy": "Այս հարթակը ստեղծվել է Եվրոպական միության ֆինանսական աջակցությամբ։ Դրա բովանդակության "
              "համար պատասխանատու է միայն ծրագիրը, և այն պարտադիր չէ, որ արտահայտի Եվրոպական միության "
              "տեսակետները։",
        "ru": "Эта платформа создана при финансовой поддержке Европейского союза. Ответственность за её "
              "содержание несёт исключительно программа, и оно не обязательно отражает точку зрения "
              "Европейского союза.",
    },
}


def setting_text(name: str, lang: str, config=None) -> str:
    """The setting ``name`` as shown to a reader of ``lang`` (see the module's docstring)."""
    config = current_app.config if config is None else config
    value = config[name]
    if isinstance(value, dict):
        return value.get(lang) or value.get("en") or next(iter(value.values()), "")
    own = config.get(f"{name}_{lang.upper()}")
    if own:
        return own
    if value == getattr(Defaults, name) and lang in BUILT_IN.get(name, {}):
        return BUILT_IN[name][lang]
    return value
