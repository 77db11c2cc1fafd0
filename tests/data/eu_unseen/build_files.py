"""Writes the EU FSF files the project has never seen (an independent check of the ``eu_fsf`` parser).

Three XML 1.1 exports in three styles and one CSV 1.1 export of the second one, rendered from the
facts below (real EU listings as publicly reported: persons and entities of the Russia/Ukraine,
Belarus, Iran, Syria, DPRK, terrorism, cyber and Moldova regimes, UN-listed DPRK vessels and
shadow-fleet tankers filed as enterprises). Names, regimes and most dates follow public records;
reference numbers, logical ids, OGRN/IMO company numbers, some entry-into-force dates (set a day
after publication to test the listing-date rule) and the delisting dates are illustrative.

Written by hand for this check, not with the project's writer. Run from the repository root:

    .venv/bin/python tests/data/eu_unseen/build_files.py

The expected counts (``expected.yml``) are not written here: ``tests/test_eu_unseen.py`` recounts
them from the files with lxml.
"""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

HERE = Path(__file__).resolve().parent
NS = "http://eu.europa.ec/fpi/fsd/export"

COUNTRIES = {
    "00": "UNKNOWN", "AE": "UNITED ARAB EMIRATES", "BY": "BELARUS", "CN": "CHINA", "CS": "SERBIA AND MONTENEGRO",
    "IL": "ISRAEL", "IR": "IRAN (ISLAMIC REPUBLIC OF)", "KP": "KOREA (DEMOCRATIC PEOPLE'S REPUBLIC OF)",
    "LB": "LEBANON", "MD": "MOLDOVA, REPUBLIC OF", "PT": "PORTUGAL", "RU": "RUSSIAN FEDERATION",
    "SY": "SYRIAN ARAB REPUBLIC", "UA": "UKRAINE", "UZ": "UZBEKISTAN",
}

EURLEX = "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:"


def reg(kind: str, org: str, pub: str, eif: str, title: str, prog: str, lid: int, celex: str) -> dict:
    return {"regulationType": kind, "organisationType": org, "publicationDate": pub, "entryIntoForceDate": eif,
            "numberTitle": title, "programme": prog, "logicalId": str(lid), "url": EURLEX + celex}


REGS = {
    # Russia / Ukraine territorial integrity (Regulation 269/2014): programme UKR
    "ukr_269": reg("regulation", "council", "2014-03-17", "2014-03-17", "269/2014 (OJ L78)", "UKR", 1301, "32014R0269"),
    "ukr_433": reg("amendment", "council", "2014-05-12", "2014-05-12", "433/2014 (OJ L126)", "UKR", 1305, "32014R0433"),
    "ukr_826": reg("amendment", "council", "2014-07-30", "2014-07-30", "826/2014 (OJ L226)", "UKR", 1309, "32014R0826"),
    "ukr_260": reg("amendment", "council", "2022-02-23", "2022-02-23", "2022/260 (OJ L42I)", "UKR", 149001,
                   "32022R0260"),
    "ukr_261": reg("amendment", "council", "2022-02-23", "2022-02-23", "2022/261 (OJ L42I)", "UKR", 149002,
                   "32022R0261"),
    "ukr_332": reg("amendment", "council", "2022-02-25", "2022-02-25", "2022/332 (OJ L53)", "UKR", 149145,
                   "32022R0332"),
    "ukr_336": reg("amendment", "council", "2022-02-28", "2022-02-28", "2022/336 (OJ L58)", "UKR", 149170,
                   "32022R0336"),
    "ukr_396": reg("amendment", "council", "2022-03-09", "2022-03-09", "2022/396 (OJ L80)", "UKR", 149301,
                   "32022R0396"),
    # published on the 15th, in force on the 16th: the listing date is the 16th
    "ukr_427": reg("amendment", "council", "2022-03-15", "2022-03-16", "2022/427 (OJ L87I)", "UKR", 149355,
                   "32022R0427"),
    "ukr_1986": reg("amendment", "council", "2022-10-20", "2022-10-20", "2022/1986 (OJ L272)", "UKR", 152010,
                    "32022R1986"),
    "ukr_2476": reg("amendment", "council", "2022-12-16", "2022-12-16", "2022/2476 (OJ L322I)", "UKR", 152877,
                    "32022R2476"),
    # the 13th package re-published existing entries: never their listing date
    "ukr_753": reg("amendment", "council", "2024-02-23", "2024-02-23", "2024/753 (OJ L, 2024/753)", "UKR", 171220,
                   "32024R0753"),
    "ukr_3192": reg("amendment", "council", "2024-12-16", "2024-12-16", "2024/3192 (OJ L, 2024/3192)", "UKR", 178431,
                    "32024R3192"),
    "lby_1481": reg("amendment", "council", "2020-10-15", "2020-10-15", "2020/1481 (OJ L341)", "LBY", 140020,
                    "32020R1481"),
    "chem_1480": reg("amendment", "council", "2020-10-15", "2020-10-15", "2020/1480 (OJ L341)", "CHEM", 140019,
                     "32020R1480"),
    "blr_1648": reg("amendment", "council", "2020-11-06", "2020-11-06", "2020/1648 (OJ L370I)", "BLR", 140402,
                    "32020R1648"),
    "blr_2124": reg("amendment", "council", "2021-12-02", "2021-12-02", "2021/2124 (OJ L430I)", "BLR", 146611,
                    "32021R2124"),
    "blr_300": reg("amendment", "council", "2022-02-24", "2022-02-24", "2022/300 (OJ L46)", "BLR", 149101,
                   "32022R0300"),
    "blr_353": reg("amendment", "council", "2022-03-02", "2022-03-02", "2022/353 (OJ L67)", "BLR", 149230,
                   "32022R0353"),
    "irn_267": reg("regulation", "council", "2012-03-24", "2012-03-24", "267/2012 (OJ L88)", "IRN", 2301, "32012R0267"),
    # Iran's military support to Russia (2023): published on the 25th, in force on the 26th
    "irn_1529": reg("regulation", "council", "2023-07-25", "2023-07-26", "2023/1529 (OJ L186)", "IRN", 158840,
                    "32023R1529"),
    "syr_442": reg("regulation", "council", "2011-05-10", "2011-05-10", "442/2011 (OJ L121)", "SYR", 2101,
                   "32011R0442"),
    "syr_36": reg("regulation", "council", "2012-01-19", "2012-01-19", "36/2012 (OJ L16)", "SYR", 2201, "32012R0036"),
    "syr_168": reg("amendment", "council", "2012-02-28", "2012-02-28", "168/2012 (OJ L54)", "SYR", 2210, "32012R0168"),
    "syr_375": reg("amendment", "council", "2015-03-07", "2015-03-07", "2015/375 (OJ L64)", "SYR", 7501, "32015R0375"),
    # the real 2017/1509 was published on 31 August and entered into force on 1 September 2017
    "prk_1509": reg("repealing", "council", "2017-08-31", "2017-09-01", "2017/1509 (OJ L224)", "PRK", 108650,
                    "32017R1509"),
    "prk_546": reg("amendment", "commission", "2018-04-09", "2018-04-10", "2018/546 (OJ L91)", "PRK", 124871,
                   "32018R0546"),
    "terr_1505": reg("amendment", "council", "2023-07-20", "2023-07-21", "2023/1505 (OJ L183)", "TERR", 158610,
                     "32023R1505"),
    "cyb_1125": reg("amendment", "council", "2020-07-30", "2020-07-30", "2020/1125 (OJ L246)", "CYB", 139901,
                    "32020R1125"),
    "cyb_1536": reg("amendment", "council", "2020-10-22", "2020-10-22", "2020/1536 (OJ L351)", "CYB", 140101,
                    "32020R1536"),
    "mda_1047": reg("amendment", "council", "2023-05-30", "2023-05-30", "2023/1047 (OJ L140)", "MDA", 157320,
                    "32023R1047"),
    "mda_1960": reg("amendment", "council", "2024-07-22", "2024-07-22", "2024/1960 (OJ L, 2024/1960)", "MDA", 175001,
                    "32024R1960"),
    "rus_1351": reg("amendment", "council", "2025-05-20", "2025-05-21", "2025/965 (OJ L, 2025/965)", "RUS", 183002,
                    "32025R0965"),
}


def name(whole: str, *, first: str = "", middle: str = "", last: str = "", gender: str | None = None,
         function: str = "", title: str = "", lang: str = "", strong: bool = True, rlang: str = "en") -> dict:
    return {"firstName": first, "middleName": middle, "lastName": last, "wholeName": whole, "function": function,
            "gender": gender, "title": title, "nameLanguage": lang, "strong": "true" if strong else "false",
            "regulationLanguage": rlang}


def born(date: str | None = None, *, year: int | None = None, circa: bool = False, city: str = "",
         cc: str = "00", rng: tuple[int, int] | None = None, place: str = "", region: str = "") -> dict:
    out = {"circa": "true" if circa else "false", "calendarType": "GREGORIAN", "city": city, "zipCode": "",
           "birthdate": date, "region": region, "place": place, "countryIso2Code": cc}
    if date:
        y, m, d = (int(p) for p in date.split("-"))
        out.update(dayOfMonth=str(d), monthOfYear=str(m), year=str(y))
    elif year:
        out["year"] = str(year)
    if rng:
        out.update(yearRangeFrom=str(rng[0]), yearRangeTo=str(rng[1]))
    return out


def addr(city: str = "", cc: str = "00", *, street: str = "", region: str = "", place: str = "", zip_code: str = "",
         contact: list[tuple[str, str]] | None = None) -> dict:
    return {"city": city, "street": street, "poBox": "", "zipCode": zip_code, "region": region, "place": place,
            "asAtListingTime": "false", "countryIso2Code": cc, "contact": contact or []}


def ident(code: str, desc: str, number: str, cc: str = "00", **extra: str) -> dict:
    return {"diplomatic": "false", "knownExpired": "false", "knownFalse": "false", "reportedLost": "false",
            "revokedByIssuer": "false", "issuedBy": "", "latinNumber": "", "nameOnDocument": "", "number": number,
            "region": "", "countryIso2Code": cc, "identificationTypeCode": code,
            "identificationTypeDescription": desc, **extra}


def ent(lid: int, subject: str, regulation: str, names: list[dict], *, ref: str | None = "", desig: str | None = None,
        details: str = "", un: str = "", delist: str | None = None, remarks: list[str] | None = None,
        info: list[tuple[str, str]] | None = None, cits: list[str] | None = None, births: list[dict] | None = None,
        addrs: list[dict] | None = None, ids: list[dict] | None = None, summary: str | None = None,
        kind: str | None = None) -> dict:
    """One sanctionEntity. ``kind`` is what a reader of the record calls it (person, organization,
    vessel): kept beside the facts to cross-check the recount's rule, never written to the files."""
    return {"lid": lid, "subject": subject, "reg": regulation, "names": names, "ref": ref, "desig": desig,
            "details": details, "un": un, "delist": delist, "remarks": remarks or [], "info": info or [],
            "cits": cits or [], "births": births or [], "addrs": addrs or [], "ids": ids or [],
            "summary": summary or regulation, "kind": kind or ("person" if subject == "P" else "organization")}


P, E = "P", "E"

# --- file 1: Russia/Ukraine and Belarus, the Commission's own style ------------------------------------------------

FILE1 = [
    ent(135909, P, "ukr_332", [
        name("Vladimir Vladimirovich PUTIN", first="Vladimir", middle="Vladimirovich", last="PUTIN", gender="M",
             function="President of the Russian Federation"),
        name("Владимир Владимирович Путин", gender="M", lang="ru", strong=True)],
        ref="EU.6542.89", desig="2022-02-25", cits=["RU"],
        births=[born("1952-10-07", city="Leningrad (now Saint-Petersburg)", cc="RU")]),
    ent(135910, P, "ukr_332", [
        name("Sergey Viktorovich LAVROV", first="Sergey", middle="Viktorovich", last="LAVROV", gender="M",
             function="Minister of Foreign Affairs of the Russian Federation"),
        name("Sergei LAVROV", gender="M", strong=False)],
        ref="EU.6543.88", desig="2022-02-25", cits=["RU"], births=[born("1950-03-21", city="Moscow", cc="RU")]),
    ent(135650, P, "ukr_260", [
        name("Sergei Kuzhugetovich SHOIGU", first="Sergei", middle="Kuzhugetovich", last="SHOIGU", gender="M",
             function="Minister of Defence of the Russian Federation")],
        ref="EU.6483.50", desig="2022-02-23", cits=["RU"],
        births=[born("1955-05-21", city="Chadan", region="Tuva", cc="RU")]),
    ent(135651, P, "ukr_260", [
        name("Valery Vasilevich GERASIMOV", first="Valery", middle="Vasilevich", last="GERASIMOV", gender="M",
             function="Chief of the General Staff of the Armed Forces of the Russian Federation")],
        ref="EU.6484.49", desig="2022-02-23", cits=["RU"], births=[born("1955-09-08", city="Kazan", cc="RU")]),
    ent(135700, P, "ukr_260", [
        name("Leonid Eduardovich SLUTSKY", first="Leonid", middle="Eduardovich", last="SLUTSKY", gender="M",
             function="Member of the State Duma")],
        ref="EU.6501.22", desig="2022-02-23", cits=["RU"], births=[born("1968-01-04", city="Moscow", cc="RU")]),
    # no designationDate: the entry-into-force date of its regulation (16 March), not its publication (15 March)
    ent(136010, P, "ukr_427", [
        name("Roman Arkadyevich ABRAMOVICH", first="Roman", middle="Arkadyevich", last="ABRAMOVICH", gender="M",
             function="Businessman"),
        name("Роман Аркадьевич Абрамович", gender="M", lang="ru", strong=False)],
        ref="EU.6999.12", cits=["RU", "IL", "PT"], births=[born("1966-10-24", city="Saratov", cc="RU")]),
    ent(135960, P, "ukr_336", [
        name("Alisher Burhanovich USMANOV", first="Alisher", middle="Burhanovich", last="USMANOV", gender="M",
             function="Founder of USM Holdings"),
        name("Alisher Burkhanovich USMANOV", gender="M", strong=False),
        name("Алишер Бурханович Усманов", gender="M", lang="ru")],
        ref="EU.6601.31", desig="2022-02-28", cits=["RU", "UZ"],
        births=[born("1953-09-09", city="Chust", cc="UZ")], addrs=[addr("Moscow", "RU")]),
    ent(135961, P, "ukr_396", [
        name("Gulbakhor ISMAILOVA", first="Gulbakhor", last="ISMAILOVA", gender="F"),
        name("Gulbahor ISMAILOVA", gender="F", strong=False)],
        ref="EU.6820.77", desig="2022-03-09", cits=["UZ", "RU"], births=[born(year=1951, cc="UZ")]),
    # one target, two regimes: two sanctionEntity records sharing one euReferenceNumber
    ent(133000, P, "lby_1481", [
        name("Yevgeniy Viktorovich PRIGOZHIN", first="Yevgeniy", middle="Viktorovich", last="PRIGOZHIN",
             gender="M", function="Businessman, financier of the Wagner Group")],
        ref="EU.6007.33", desig="2020-10-15", cits=["RU"], births=[born("1961-06-01", city="Leningrad", cc="RU")],
        addrs=[addr("Saint Petersburg", "RU")]),
    ent(135971, P, "ukr_261", [
        name("Yevgeniy Viktorovich PRIGOZHIN", first="Yevgeniy", middle="Viktorovich", last="PRIGOZHIN",
             gender="M", function="Head of the Wagner Group"),
        name("Евгений Викторович Пригожин", gender="M", lang="ru", strong=False)],
        ref="EU.6007.33", desig="2022-02-23", cits=["RU"], births=[born("1961-06-01", city="Leningrad", cc="RU")]),
    ent(135980, P, "blr_1648", [
        name("Aliaksandr Ryhoravich LUKASHENKA", first="Aliaksandr", middle="Ryhoravich", last="LUKASHENKA",
             gender="M", function="President of the Republic of Belarus"),
        name("Alexander Grigoryevich LUKASHENKO", gender="M", strong=False),
        name("Аляксандр Рыгоравіч Лукашэнка", gender="M", lang="be"),
        name("Александр Григорьевич Лукашенко", gender="M", lang="ru")],
        ref="EU.5998.61", desig="2020-11-06", cits=["BY"],
        births=[born("1954-08-30", city="Kopys", region="Vitebsk region", cc="BY")]),
    ent(135981, P, "blr_300", [
        name("Viktar Gennadievich KHRENIN", first="Viktar", middle="Gennadievich", last="KHRENIN", gender="M",
             function="Minister of Defence of Belarus")],
        ref="EU.6660.30", desig="2022-02-24", cits=["BY"], births=[born("1971-08-01", city="Polotsk", cc="BY")]),
    ent(136001, E, "ukr_261", [name("Bank Rossiya", rlang="en"), name("АО «АБ «РОССИЯ»", lang="ru", strong=False)],
        ref="EU.6505.18", desig="2022-02-23",
        addrs=[addr("Saint Petersburg", "RU", street="pl. Rastrelli 2 liter A", zip_code="191124")],
        ids=[ident("regnumber", "Registration Number", "1027800000084", "RU")]),
    ent(136002, E, "ukr_261", [name("Promsvyazbank"), name("PSB", strong=False)],
        ref="EU.6506.17", desig="2022-02-23",
        addrs=[addr("Moscow", "RU", street="Smirnovskaya Street 10, building 22", zip_code="109052")]),
    ent(136003, E, "ukr_261", [name("VEB.RF"), name("Vnesheconombank", strong=False)],
        ref="EU.6507.16", desig="2022-02-23", addrs=[addr("Moscow", "RU", street="Akademika Sakharova Prospekt 9")]),
    ent(136004, E, "ukr_261", [name("Internet Research Agency"), name("Glavset", strong=False)],
        ref="EU.6508.15", desig="2022-02-23", addrs=[addr("Saint Petersburg", "RU", street="Savushkina Street 55")]),
    # 2014 listings without designationDate: the entry-into-force date of the act named
    ent(136005, E, "ukr_826", [name("Almaz-Antey"), name("Almaz-Antey Corp", strong=False),
                               name("Almaz-Antey Defense Corporation", strong=False)],
        ref="EU.3758.21", addrs=[addr("Moscow", "RU", street="41 ul.Vereiskaya", zip_code="121471")]),
    ent(136006, E, "ukr_433", [name("State enterprise 'Sevastopol commercial seaport'"),
                               name("Sevastopolsky morskoy torgovy port", strong=False)],
        ref="EU.3701.63", addrs=[addr("Sevastopol", "UA", street="1 Nakhimov Square", region="Crimea")],
        remarks=["Confiscated by the 'Crimean parliament' on 17 March 2014."]),
    ent(136007, E, "ukr_433", [name("State enterprise 'Kerch ferry'"), name("Gosudarstvennoye predpriyatiye "
                                                                            "Kerchenskaya paromnaya pereprava",
                                                                            strong=False)],
        ref="EU.3702.62", addrs=[addr("Kerch", "UA", street="28 Ul. Kirova", region="Crimea", zip_code="298312")]),
    ent(136009, E, "blr_353", [name("JSC 558 Aircraft Repair Plant"), name("ОАО «558 Авиационный ремонтный завод»",
                                                                          lang="ru", strong=False)],
        ref="EU.6720.08", desig="2022-03-02", addrs=[addr("Baranovichi", "BY", street="7 Tsiolkovskogo Street",
                                                          region="Brest region")]),
    ent(136011, E, "blr_2124", [name("OAO Belaruskali"), name("Belaruskali OAO", strong=False)],
        ref="EU.6412.03", desig="2021-12-02",
        addrs=[addr("Soligorsk", "BY", street="5 Korzha Street", zip_code="223710",
                    contact=[("WEB", "https://kali.by"), ("PHONE", "+375 174 29 81 01")])]),
    ent(136012, P, "ukr_336", [
        name("Igor Ivanovich SECHIN", first="Igor", middle="Ivanovich", last="SECHIN", gender="M",
             function="Chief executive officer of Rosneft")],
        ref="EU.6602.30", desig="2022-02-28", cits=["RU"], births=[born("1960-09-07", city="Leningrad", cc="RU")]),
    ent(136013, P, "ukr_396", [
        name("Alexei Borisovich MILLER", first="Alexei", middle="Borisovich", last="MILLER", gender="M",
             function="Chairman of the Management Committee of Gazprom")],
        ref="EU.6821.76", desig="2022-03-09", cits=["RU"], births=[born("1962-01-31", city="Leningrad", cc="RU")]),
    ent(136014, P, "ukr_336", [
        name("Dmitry Sergeyevich PESKOV", first="Dmitry", middle="Sergeyevich", last="PESKOV", gender="M",
             function="Press Secretary of the President of the Russian Federation")],
        ref="EU.6603.29", desig="2022-02-28", cits=["RU"], births=[born("1967-10-17", city="Moscow", cc="RU")]),
    ent(136015, P, "ukr_336", [
        name("Maria Vladimirovna ZAKHAROVA", first="Maria", middle="Vladimirovna", last="ZAKHAROVA", gender="F",
             function="Director of the Information and Press Department, Ministry of Foreign Affairs")],
        ref="EU.6604.28", desig="2022-02-28", cits=["RU"], births=[born("1975-12-24", city="Moscow", cc="RU")]),
    ent(136016, P, "ukr_261", [
        name("Margarita Simonovna SIMONYAN", first="Margarita", middle="Simonovna", last="SIMONYAN", gender="F",
             function="Editor-in-chief of RT")],
        ref="EU.6509.14", desig="2022-02-23", cits=["RU"], births=[born("1980-04-06", city="Moscow", cc="RU")]),
    ent(136017, P, "ukr_261", [
        name("Ramzan Akhmatovich KADYROV", first="Ramzan", middle="Akhmatovich", last="KADYROV", gender="M",
             function="Head of the Chechen Republic")],
        ref="EU.6510.13", desig="2022-02-23", cits=["RU"],
        births=[born("1976-10-05", city="Tsentaroy", region="Chechen Republic", cc="RU")]),
    ent(136018, P, "ukr_269", [
        name("Sergey Valeryevich AKSYONOV", first="Sergey", middle="Valeryevich", last="AKSYONOV", gender="M",
             function="'Head' of the so-called 'Republic of Crimea'"),
        name("Serhiy Valeriyovych AKSYONOV", gender="M", strong=False)],
        ref="EU.3651.60", cits=["RU"], births=[born("1972-11-26", city="Beltsy (Bălţi)", cc="MD")],
        addrs=[addr("Simferopol", "UA", region="Crimea")]),
    ent(136019, P, "ukr_433", [
        name("Denis Vladimirovich PUSHILIN", first="Denis", middle="Vladimirovich", last="PUSHILIN", gender="M",
             function="One of the leaders of the so-called 'Donetsk People's Republic'")],
        ref="EU.3690.33", cits=["00"], births=[born("1981-05-09", city="Makiivka", region="Donetsk oblast", cc="UA")],
        addrs=[addr("Donetsk", "UA", region="Donetsk oblast")]),
    # delisted before the file was generated: not in force
    ent(136020, P, "ukr_433", [
        name("Aleksandr Vladimirovich ZAKHARCHENKO", first="Aleksandr", middle="Vladimirovich", last="ZAKHARCHENKO",
             gender="M", function="So-called 'Head' of the 'Donetsk People's Republic'")],
        ref="EU.3695.28", delist="2019-03-15", cits=["UA"], births=[born("1976-06-26", city="Donetsk", cc="UA")]),
    ent(136021, P, "ukr_261", [
        name("Dmitry Valerievich UTKIN", first="Dmitry", middle="Valerievich", last="UTKIN", gender="M",
             function="Founder and commander of the Wagner Group")],
        ref="EU.6511.12", desig="2022-02-23", cits=["RU"], births=[born(year=1970, circa=True, cc="00")]),
    ent(133001, P, "chem_1480", [
        name("Sergei Vladilenovich KIRIYENKO", first="Sergei", middle="Vladilenovich", last="KIRIYENKO",
             gender="M", function="First Deputy Chief of Staff of the Presidential Executive Office")],
        ref="EU.6005.35", desig="2020-10-15", cits=["RU"], births=[born("1962-07-26", city="Sukhumi", cc="00")]),
    ent(135972, P, "ukr_261", [
        name("Sergei Vladilenovich KIRIYENKO", first="Sergei", middle="Vladilenovich", last="KIRIYENKO",
             gender="M", function="First Deputy Chief of Staff of the Presidential Executive Office")],
        ref="EU.6005.35", desig="2022-02-23", cits=["RU"], births=[born("1962-07-26", city="Sukhumi", cc="00")]),
]

# --- file 2: Iran, Syria, DPRK and terrorism (the CSV export is of this file) ----------------------------------------

FILE2 = [
    ent(10001, E, "irn_267", [name("Islamic Revolutionary Guard Corps"), name("IRGC", strong=False),
                              name("Sepah-e Pasdaran-e Enqelab-e Eslami", strong=False)],
        ref="EU.3.42", desig="2010-07-26", addrs=[addr("Tehran", "IR")]),
    # a shipping line: it operates vessels and has an IMO company number; it is not a vessel
    ent(10002, E, "irn_267", [name("Islamic Republic of Iran Shipping Lines (IRISL)"),
                              name("IRISL", strong=False)],
        ref="EU.4.41", desig="2010-07-26",
        remarks=["Operates a fleet of vessels under Iranian and foreign flags. IMO company number: 1280609."],
        addrs=[addr("Tehran", "IR", street="No. 37, Asseman Tower, Sayad Shirazee Square, Pasdaran Ave."),
               addr("Belgrade", "CS", street="Bulevar Mihajla Pupina 10")]),
    ent(10003, P, "irn_267", [
        name("Fereydoun ABBASI-DAVANI", first="Fereydoun", last="ABBASI-DAVANI", gender="M",
             function="Senior Ministry of Defence and Armed Forces Logistics (MODAFL) scientist")],
        ref="EU.11.30", desig="2007-04-23", cits=["IR"], births=[born("1958-07-11", city="Abadan", cc="IR")]),
    ent(10004, E, "ukr_1986", [name("Shahed Aviation Industries Research Center"), name("SAIRC", strong=False)],
        ref="EU.7700.10", desig="2022-10-20", addrs=[addr("Tehran", "IR")],
        remarks=["Designer of the Shahed series of unmanned aerial vehicles used by Russia against Ukraine."]),
    ent(10005, E, "ukr_2476", [name("Qods Aviation Industries")], ref="EU.7800.11", desig="2022-12-16",
        addrs=[addr("Tehran", "IR", street="Km 5 Karaj Special Road")]),
    # one target, two regimes
    ent(10006, P, "ukr_1986", [
        name("Mohammad Hossein BAGHERI", first="Mohammad Hossein", last="BAGHERI", gender="M",
             function="Chief of Staff of the Armed Forces of Iran")],
        ref="EU.7701.09", desig="2022-10-20", cits=["IR"], births=[born(year=1960, city="Tehran", cc="IR")]),
    ent(10009, P, "irn_1529", [
        name("Mohammad Hossein BAGHERI", first="Mohammad Hossein", last="BAGHERI", gender="M",
             function="Chief of Staff of the Armed Forces of Iran")],
        ref="EU.7701.09", desig="2023-07-26", cits=["IR"], births=[born(year=1960, city="Tehran", cc="IR")]),
    ent(10007, E, "irn_1529", [name("Baharestan Kish Company")], ref="EU.8001.20",
        addrs=[addr("Kish Island", "IR")]),
    ent(10008, P, "irn_267", [
        name("Ahmad VAHIDI", first="Ahmad", last="VAHIDI", gender="M", function="Former Minister of Defence")],
        ref="EU.12.29", desig="2011-12-01", cits=["IR"], births=[born(year=1958, rng=(1958, 1959), cc="IR",
                                                                     city="Shiraz")]),
    ent(10101, P, "syr_36", [
        name("Bashar AL-ASSAD", first="Bashar", last="AL-ASSAD", gender="M", function="President of the Republic"),
        name("Bachar AL-ASSAD", gender="M", lang="fr", strong=False, rlang="fr"),
        name("بشار الأسد", gender="M", lang="ar")],
        ref="EU.2101.60", desig="2011-05-23", cits=["SY"], births=[born("1965-09-11", city="Damascus", cc="SY")]),
    # no designationDate; its aliases cite the 2011 regulation (publication date only): the listing
    # date is the entry into force of its own regulation, never a summary's publication date
    ent(10102, P, "syr_36", [
        name("Maher AL-ASSAD", first="Maher", last="AL-ASSAD", gender="M",
             function="Commander of the Army's 4th Armoured Division")],
        ref="EU.2102.59", cits=["SY"], births=[born("1967-12-08", city="Damascus", cc="SY")], summary="syr_442"),
    ent(10103, P, "syr_36", [
        name("Rami MAKHLOUF", first="Rami", last="MAKHLOUF", gender="M", function="Businessman")],
        ref="EU.2103.58", desig="2011-05-09", cits=["SY"], births=[born("1969-07-10", city="Damascus", cc="SY")],
        addrs=[addr("Damascus", "SY")], ids=[ident("passport", "Passport", "454224", "SY")]),
    ent(10104, P, "syr_36", [name("Anisa MAKHLOUF", first="Anisa", last="MAKHLOUF", gender="F")],
        ref="EU.2150.11", desig="2012-03-23", delist="2016-05-27", cits=["SY"],
        births=[born("1934-07-28", city="Latakia", cc="SY")]),
    ent(10105, E, "syr_168", [name("Commercial Bank of Syria")], ref="EU.2401.21", desig="2012-02-27",
        addrs=[addr("Damascus", "SY", street="Moawiya St"), addr("Beirut", "LB", street="Hamra Street")]),
    ent(10106, P, "syr_375", [
        name("Mudalal KHOURI", first="Mudalal", last="KHOURI", gender="M", function="Businessman"),
        name("Mudalal KHURI", gender="M", strong=False)],
        ref="EU.3002.44", desig="2015-03-07", cits=["SY", "RU"], births=[born(year=1950, circa=True, cc="SY")],
        addrs=[addr("Moscow", "RU")]),
    # designationDate after its regulation's entry into force (re-listed): designationDate stands
    ent(10107, E, "syr_36", [name("Cham Holding")], ref="EU.2450.72", desig="2012-03-23",
        remarks=["Re-listed after the annulment of its first listing."],
        addrs=[addr("Damascus", "SY", street="Cham Holding Building, Daraa Highway, Ashrafiyat Sahnaya Rif Dimashq")]),
    ent(10108, P, "syr_375", [
        name("George HASWANI", first="George", last="HASWANI", gender="M", function="Owner of HESCO")],
        ref="EU.3003.43", desig="2015-03-07", cits=["SY"], births=[born(year=1946, city="Yabroud", cc="SY")],
        addrs=[addr("Damascus", "SY")]),
    ent(10201, E, "prk_1509", [name("Korea Mining Development Trading Corporation"), name("KOMID", strong=False),
                               name("Changgwang Sinyong Corporation", strong=False)],
        ref="EU.1.60", un="KPe.001", desig="2009-04-24", remarks=["(Date of UN designation: 2009-04-24)"],
        addrs=[addr("Pyongyang", "KP", street="Central District")]),
    ent(108672, P, "prk_1509", [
        name("Cho Chun Ryong", first="Cho", middle="Chun", last="Ryong",
             function="Chairman of the Second Economic Committee (SEC)")],
        ref="EU.4068.18", desig="2016-11-30", cits=["KP"],
        remarks=["(Date of UN designation: 2016-11-30)", "(Date of designation: 30.11.2016)"]),
    # vessels filed as enterprises, each says so differently
    ent(10203, E, "prk_546", [name("CHON MA SAN")], ref="EU.5001.30", desig="2018-03-30", kind="vessel",
        remarks=["Flag: Democratic People's Republic of Korea. (Date of UN designation: 2018-03-30)"],
        ids=[ident("imo", "IMO Number", "8660313")]),
    ent(10204, E, "prk_546", [name("YU JONG 2")], ref="EU.5002.29", kind="vessel",
        remarks=["IMO number: 8604917. Oil tanker, flag: Democratic People's Republic of Korea."]),
    ent(10205, E, "prk_546", [name("NAM SAN 8")], ref="EU.5003.28", desig="2018-03-30", kind="vessel",
        ids=[ident("other", "IMO number", "8122347")]),
    ent(10206, E, "prk_546", [name("KUM UN SAN 3")], ref="EU.5004.27", desig="2018-03-30", kind="vessel",
        details="Vessel (oil tanker), IMO 8705539, flag: Democratic People's Republic of Korea"),
    ent(10207, P, "prk_1509", [name("JANG Song Chol", first="Song Chol", last="JANG", gender="M",
                                    function="Representative of KOMID in Russia")],
        ref="EU.4101.16", un="KPi.044", desig="2017-08-05", cits=["KP"], births=[born("1967-03-12", cc="KP")],
        addrs=[addr("Vladivostok", "RU")]),
    ent(10208, P, "prk_1509", [name("KIM Su Il", first="Su Il", last="KIM", gender="M",
                                    function="Munitions Industry Department operative")],
        ref="EU.4102.15", un="KPi.048", desig="2017-08-05", cits=["00"], births=[born("1973-09-10", cc="KP")],
        addrs=[addr(cc="00", place="Unknown location")]),
    # the terrorist list is renewed every six months: without designationDate the listing date the
    # record gives is its renewal act's entry into force
    ent(10301, E, "terr_1505", [name("Hamas (including Hamas-Izz al-Din al-Qassem)"),
                                name("Harakat al-Muqawama al-Islamiya", strong=False)], ref="EU.9.12"),
    ent(10302, E, "terr_1505", [name("Hizballah Military Wing"), name("Hezbollah Military Wing", strong=False)],
        ref="EU.10.11"),
]

# --- file 3: a small 2025 file (shadow fleet, cyber, Moldova, delistings) -----------------------------------------

FILE3 = [
    ent(180001, E, "rus_1351", [name("EAGLE S")], ref="EU.9901.01", desig="2025-05-20", kind="vessel",
        remarks=["Crude oil tanker; flag: Cook Islands."], ids=[ident("imo", "IMO Number", "9329760")]),
    ent(180002, E, "rus_1351", [name("JAGUAR (IMO 9293002)")], ref="EU.9902.00", desig="2025-05-20",
        kind="vessel", remarks=["Oil tanker of the shadow fleet."]),
    ent(180003, E, "rus_1351", [name("SEA OWL I")], ref="EU.9903.99", kind="vessel",
        ids=[ident("imo", "IMO number", "9171711")]),
    # a ship manager naming the tankers it manages is an organization, not a vessel
    ent(180004, E, "rus_1351", [name("Fornax Ship Management FZCO")], ref="EU.9904.98", desig="2025-05-20",
        remarks=["Ship manager of tankers of the shadow fleet, including JAGUAR (IMO 9293002)."],
        addrs=[addr("Dubai", "AE")], ids=[ident("regnumber", "Registration Number", "DMCC-812345", "AE")]),
    # listed in 2022; the 2024 amendment that re-published the entry is not its listing date
    ent(135960, P, "ukr_753", [
        name("Alisher Burhanovich USMANOV", first="Alisher", middle="Burhanovich", last="USMANOV", gender="M",
             function="Founder of USM Holdings"),
        name("Alisher Burkhanovich USMANOV", gender="M", strong=False)],
        ref="EU.6601.31", desig="2022-02-28", cits=["RU", "UZ"], births=[born("1953-09-09", city="Chust", cc="UZ")],
        addrs=[addr("Moscow", "RU")]),
    ent(135961, P, "ukr_753", [name("Gulbakhor ISMAILOVA", first="Gulbakhor", last="ISMAILOVA", gender="F")],
        ref="EU.6820.77", desig="2022-03-09", delist="2025-03-14", cits=["UZ", "RU"],
        births=[born(year=1951, cc="UZ")]),
    ent(139901, E, "cyb_1125", [
        name("Main Centre for Special Technologies (GTsST) of the Main Directorate of the General Staff of the "
             "Armed Forces of the Russian Federation (GU/GRU)"), name("Unit 74455", strong=False),
        name("Sandworm", strong=False)],
        ref="EU.6100.41", desig="2020-07-30", addrs=[addr("Moscow", "RU", street="22 Kirova Street")]),
    ent(140101, E, "cyb_1536", [name("85th Main Centre for Special Services (GTsSS) of the GU/GRU"),
                                name("Military Unit 26165", strong=False), name("APT28", strong=False)],
        ref="EU.6101.40", desig="2020-10-22", addrs=[addr("Moscow", "RU", street="20 Komsomolsky Prospekt")]),
    # a delisting date still to come: in force on the day of the file
    ent(140102, P, "cyb_1536", [
        name("Dmitriy Sergeyevich BADIN", first="Dmitriy", middle="Sergeyevich", last="BADIN", gender="M",
             function="Military intelligence officer of the 85th Main Centre for Special Services")],
        ref="EU.6102.39", desig="2020-10-22", delist="2025-09-15", cits=["RU"],
        births=[born("1990-11-15", city="Kursk", cc="RU")]),
    # no euReferenceNumber at all / an empty one: the target is the record
    ent(157401, P, "mda_1047", [
        name("Ilan Mironovich SHOR", first="Ilan", middle="Mironovich", last="SHOR", gender="M",
             function="Leader of the Shor party"),
        name("Илан Миронович Шор", gender="M", lang="ru", strong=False)],
        ref=None, desig="2023-05-30", cits=["MD", "IL"], births=[born("1987-03-06", city="Tel Aviv", cc="IL")],
        addrs=[addr("Moscow", "RU")]),
    ent(175010, P, "mda_1960", [name("Evghenia GUTUL", first="Evghenia", last="GUTUL", gender="F",
                                     function="Governor (Bashkan) of the Autonomous Territorial Unit of Gagauzia")],
        ref="", desig="2024-07-22", cits=["MD"], births=[born(year=1986, cc="MD")],
        addrs=[addr("Comrat", "MD", region="Gagauzia")]),
    ent(178500, E, "ukr_3192", [name("Xiamen Limbach Aircraft Engine Co., Ltd."),
                                name("厦门林巴赫航空发动机有限公司", lang="zh", strong=False)],
        ref="EU.9100.05", desig="2024-12-16", addrs=[addr("Xiamen", "CN", region="Fujian")],
        info=[("sector", "aircraft engines")]),
    ent(178501, P, "ukr_3192", [name("KIM Yong Bok", first="Yong Bok", last="KIM", gender="M",
                                     function="First Deputy Chief of the General Staff of the Korean People's Army")],
        ref="EU.9101.04", desig="2024-12-16", cits=["KP"], births=[born(year=1960, circa=True, cc="00")]),
    ent(178502, P, "ukr_2476", [
        name("Maria Alekseyevna LVOVA-BELOVA", first="Maria", middle="Alekseyevna", last="LVOVA-BELOVA", gender="F",
             function="Commissioner for Children's Rights in the Office of the President of the Russian Federation"),
        name("Мария Алексеевна Львова-Белова", gender="F", lang="ru", strong=False)],
        ref="EU.7900.50", desig="2022-12-16", cits=["RU"], births=[born("1984-10-25", city="Penza", cc="RU")],
        info=[("note", "entry re-published in 2024 without change")]),
]

# --- the XML writer -------------------------------------------------------------------------------------------------

ORDER = {  # the Commission's attribute order
    "sanctionEntity": ["designationDate", "designationDetails", "unitedNationId", "euReferenceNumber", "delistingDate",
                       "logicalId"],
    "regulation": ["regulationType", "organisationType", "publicationDate", "entryIntoForceDate", "numberTitle",
                   "programme", "logicalId"],
    "subjectType": ["code", "classificationCode"],
    "regulationSummary": ["regulationType", "publicationDate", "numberTitle", "publicationUrl"],
    "nameAlias": ["firstName", "middleName", "lastName", "wholeName", "function", "gender", "title", "nameLanguage",
                  "strong", "regulationLanguage", "logicalId"],
    "citizenship": ["region", "countryIso2Code", "countryDescription", "regulationLanguage", "logicalId"],
    "birthdate": ["circa", "calendarType", "city", "zipCode", "birthdate", "dayOfMonth", "monthOfYear", "year",
                  "yearRangeFrom", "yearRangeTo", "region", "place", "countryIso2Code", "countryDescription",
                  "regulationLanguage", "logicalId"],
    "address": ["city", "street", "poBox", "zipCode", "region", "place", "asAtListingTime", "countryIso2Code",
                "countryDescription", "regulationLanguage", "logicalId"],
    "identification": ["diplomatic", "knownExpired", "knownFalse", "reportedLost", "revokedByIssuer", "issuedBy",
                       "latinNumber", "nameOnDocument", "number", "region", "countryIso2Code", "countryDescription",
                       "identificationTypeCode", "identificationTypeDescription", "regulationLanguage", "logicalId"],
    "contactInfo": ["key", "value"],
    "additionalInformation": ["key", "value"],
    "corrigendum": ["regulationType", "publicationDate", "numberTitle", "publicationUrl"],
}
# optional string attributes the Commission writes empty ("") when it has no value
EMPTY_OK = {"designationDetails", "unitedNationId", "euReferenceNumber", "firstName", "middleName", "lastName",
            "function", "title", "nameLanguage", "region", "city", "zipCode", "place", "street", "poBox", "issuedBy",
            "latinNumber", "nameOnDocument"}


def xml_escape(value: str) -> str:
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\n", "&#10;"))


class Writer:
    """Renders elements in one file's style: namespace prefix, indentation, line ends, attribute order,
    empty attributes written or left out, empty elements self-closed or not."""

    def __init__(self, *, prefix: str = "", indent: str | None = "\t", newline: str = "\n", order: str = "commission",
                 empty_attrs: bool = True, self_close: bool = True):
        self.prefix, self.indent, self.newline = prefix, indent, newline
        self.order, self.empty_attrs, self.self_close = order, empty_attrs, self_close
        self.lines: list[str] = []

    def tag(self, local: str) -> str:
        return f"{self.prefix}:{local}" if self.prefix else local

    def attrs(self, local: str, values: dict) -> str:
        keys = [k for k in ORDER[local] if k in values]
        keys += sorted(k for k in values if k not in keys)
        pairs = []
        for key in keys:
            value = values[key]
            if value is None or (value == "" and not (self.empty_attrs and key in EMPTY_OK)):
                continue
            pairs.append((key, value))
        if self.order == "alpha":
            pairs.sort()
        elif self.order == "reverse":
            pairs.reverse()
        return "".join(f' {k}="{xml_escape(str(v))}"' for k, v in pairs)

    def line(self, depth: int, text: str) -> None:
        self.lines.append(((self.indent or "") * depth) + text)

    def empty(self, depth: int, local: str, values: dict) -> None:
        start = f"<{self.tag(local)}{self.attrs(local, values)}"
        self.line(depth, start + ("/>" if self.self_close else f"></{self.tag(local)}>"))

    def text(self, depth: int, local: str, text: str) -> None:
        if not text:
            self.line(depth, f"<{self.tag(local)}/>" if self.self_close else f"<{self.tag(local)}></{self.tag(local)}>")
        else:
            self.line(depth, f"<{self.tag(local)}>{xml_escape(text)}</{self.tag(local)}>")

    def open(self, depth: int, local: str, values: dict, extra: str = "") -> None:
        self.line(depth, f"<{self.tag(local)}{extra}{self.attrs(local, values)}>")

    def close(self, depth: int, local: str) -> None:
        self.line(depth, f"</{self.tag(local)}>")

    def result(self) -> str:
        return self.newline.join(self.lines) + self.newline


def summary_of(key: str) -> dict:
    r = REGS[key]
    return {"regulationType": r["regulationType"], "publicationDate": r["publicationDate"],
            "numberTitle": r["numberTitle"], "publicationUrl": r["url"]}


def render_xml(entities: list[dict], *, generated: str, file_id: int, writer: Writer, declaration: str | None,
               empty_remark: bool = False, corrigendum: bool = False) -> str:
    w = writer
    w.lines = []
    if declaration:
        w.lines.append(declaration)
    ns = f' xmlns:{w.prefix}="{NS}"' if w.prefix else f' xmlns="{NS}"'
    w.line(0, f"<{w.tag('export')}{ns} generationDate=\"{generated}\" globalFileId=\"{file_id}\">")
    for e in entities:
        sub = iter(range(e["lid"] * 100 + 1, e["lid"] * 100 + 99))
        values = {"designationDate": e["desig"], "designationDetails": e["details"], "unitedNationId": e["un"],
                  "euReferenceNumber": e["ref"], "delistingDate": e["delist"], "logicalId": str(e["lid"])}
        w.open(1, "sanctionEntity", values)
        for remark in e["remarks"]:
            w.text(2, "remark", remark)
        if empty_remark and not e["remarks"]:
            w.text(2, "remark", "")
        for key, value in e["info"]:
            w.empty(2, "additionalInformation", {"key": key, "value": value})
        r = REGS[e["reg"]]
        w.open(2, "regulation", {k: v for k, v in r.items() if k != "url"})
        w.text(3, "publicationUrl", r["url"])
        if corrigendum and r["regulationType"] == "amendment" and r["publicationDate"] >= "2024":
            w.empty(3, "corrigendum", {**summary_of(e["reg"]), "regulationType": "corrigendum"})
        w.close(2, "regulation")
        w.empty(2, "subjectType", {"code": "person" if e["subject"] == "P" else "enterprise",
                                   "classificationCode": e["subject"]})
        summ = summary_of(e["summary"])

        def child(local: str, values: dict, contact: list | None = None, sub=sub, summ=summ) -> None:
            values = {**values, "logicalId": str(next(sub))}
            values.setdefault("regulationLanguage", "en")
            w.open(2, local, values)
            w.empty(3, "regulationSummary", summ)
            for key, value in contact or []:
                w.empty(3, "contactInfo", {"key": key, "value": value})
            w.close(2, local)

        for n in e["names"]:
            child("nameAlias", n)
        for cc in e["cits"]:
            child("citizenship", {"region": "", "countryIso2Code": cc, "countryDescription": COUNTRIES[cc]})
        for b in e["births"]:
            child("birthdate", {**b, "countryDescription": COUNTRIES[b["countryIso2Code"]]})
        for a in e["addrs"]:
            values = {k: v for k, v in a.items() if k != "contact"}
            child("address", {**values, "countryDescription": COUNTRIES[a["countryIso2Code"]]}, a["contact"])
        for i in e["ids"]:
            child("identification", {**i, "countryDescription": COUNTRIES[i["countryIso2Code"]]})
        w.close(1, "sanctionEntity")
    w.close(0, "export")
    return w.result()


# --- the CSV 1.1 writer: one row per combination of aliases x addresses x births x ids x citizenships ------------

CSV_COLUMNS = (
    "fileGenerationDate Entity_LogicalId Entity_EU_ReferenceNumber Entity_UnitedNationId Entity_DesignationDate "
    "Entity_DesignationDetails Entity_Remark Entity_SubjectType Entity_SubjectType_ClassificationCode "
    "Entity_Regulation_Type Entity_Regulation_OrganisationType Entity_Regulation_PublicationDate "
    "Entity_Regulation_EntryIntoForceDate Entity_Regulation_NumberTitle Entity_Regulation_Programme "
    "Entity_Regulation_PublicationUrl NameAlias_LastName NameAlias_FirstName NameAlias_MiddleName NameAlias_WholeName "
    "NameAlias_NameLanguage NameAlias_Gender NameAlias_Title NameAlias_Function NameAlias_LogicalId "
    "NameAlias_RegulationLanguage NameAlias_Remark NameAlias_Regulation_Type NameAlias_Regulation_OrganisationType "
    "NameAlias_Regulation_PublicationDate NameAlias_Regulation_EntryIntoForceDate NameAlias_Regulation_NumberTitle "
    "NameAlias_Regulation_Programme NameAlias_Regulation_PublicationUrl Address_City Address_Street Address_PoBox "
    "Address_ZipCode Address_Region Address_Place Address_AsAtListingTime Address_ContactInfo Address_CountryIso2Code "
    "Address_CountryDescription Address_LogicalId Address_RegulationLanguage Address_Remark Address_Regulation_Type "
    "Address_Regulation_OrganisationType Address_Regulation_PublicationDate Address_Regulation_EntryIntoForceDate "
    "Address_Regulation_NumberTitle Address_Regulation_Programme Address_Regulation_PublicationUrl "
    "BirthDate_BirthDate BirthDate_Day BirthDate_Month BirthDate_Year BirthDate_YearRangeFrom BirthDate_YearRangeTo "
    "BirthDate_Circa BirthDate_CalendarType BirthDate_ZipCode BirthDate_Region BirthDate_Place BirthDate_City "
    "BirthDate_CountryIso2Code BirthDate_CountryDescription BirthDate_LogicalId BirthDate_RegulationLanguage "
    "BirthDate_Remark BirthDate_Regulation_Type BirthDate_Regulation_OrganisationType "
    "BirthDate_Regulation_PublicationDate BirthDate_Regulation_EntryIntoForceDate BirthDate_Regulation_NumberTitle "
    "BirthDate_Regulation_Programme BirthDate_Regulation_PublicationUrl Identification_Number "
    "Identification_Diplomatic Identification_KnownExpired Identification_KnownFalse Identification_ReportedLost "
    "Identification_RevokedByIssuer Identification_IssuedBy Identification_IssuedDate Identification_ValidFrom "
    "Identification_ValidTo Identification_LatinNumber Identification_NameOnDocument Identification_TypeCode "
    "Identification_TypeDescription Identification_Region Identification_CountryIso2Code "
    "Identification_CountryDescription Identification_LogicalId Identification_RegulationLanguage "
    "Identification_Remark Identification_Regulation_Type Identification_Regulation_OrganisationType "
    "Identification_Regulation_PublicationDate Identification_Regulation_EntryIntoForceDate "
    "Identification_Regulation_NumberTitle Identification_Regulation_Programme "
    "Identification_Regulation_PublicationUrl "
    "Citizenship_Region Citizenship_CountryIso2Code Citizenship_CountryDescription Citizenship_LogicalId "
    "Citizenship_RegulationLanguage Citizenship_Remark Citizenship_Regulation_Type "
    "Citizenship_Regulation_OrganisationType Citizenship_Regulation_PublicationDate "
    "Citizenship_Regulation_EntryIntoForceDate Citizenship_Regulation_NumberTitle Citizenship_Regulation_Programme "
    "Citizenship_Regulation_PublicationUrl"
).split()


def render_csv(entities: list[dict], *, generated_ddmmyyyy: str, generated_iso: str) -> str:
    """The CSV 1.1 export of a file's entities in force (the CSV has no delisting column: the
    Commission's list holds only what is in force)."""
    out = io.StringIO()
    rows = csv.writer(out, delimiter=";", quotechar='"', quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    rows.writerow(CSV_COLUMNS)
    for e in entities:
        if e["delist"] and e["delist"] <= generated_iso:
            continue
        r, summ = REGS[e["reg"]], REGS[e["summary"]]
        sub = iter(range(e["lid"] * 100 + 1, e["lid"] * 100 + 99))
        base = {"fileGenerationDate": generated_ddmmyyyy, "Entity_LogicalId": e["lid"],
                "Entity_EU_ReferenceNumber": e["ref"] or "", "Entity_UnitedNationId": e["un"],
                "Entity_DesignationDate": e["desig"] or "", "Entity_DesignationDetails": e["details"],
                "Entity_Remark": "\n".join(e["remarks"]), "Entity_SubjectType": e["subject"],
                "Entity_SubjectType_ClassificationCode": "person" if e["subject"] == "P" else "enterprise",
                "Entity_Regulation_Type": r["regulationType"],
                "Entity_Regulation_OrganisationType": r["organisationType"],
                "Entity_Regulation_PublicationDate": r["publicationDate"],
                "Entity_Regulation_EntryIntoForceDate": r["entryIntoForceDate"],
                "Entity_Regulation_NumberTitle": r["numberTitle"], "Entity_Regulation_Programme": r["programme"],
                "Entity_Regulation_PublicationUrl": r["url"]}

        def reg_cols(prefix: str, summ: dict = summ) -> dict:
            return {f"{prefix}_Regulation_Type": summ["regulationType"],
                    f"{prefix}_Regulation_OrganisationType": summ["organisationType"],
                    f"{prefix}_Regulation_PublicationDate": summ["publicationDate"],
                    f"{prefix}_Regulation_EntryIntoForceDate": summ["entryIntoForceDate"],
                    f"{prefix}_Regulation_NumberTitle": summ["numberTitle"],
                    f"{prefix}_Regulation_Programme": summ["programme"],
                    f"{prefix}_Regulation_PublicationUrl": summ["url"], f"{prefix}_RegulationLanguage": "en"}

        names = [{"NameAlias_LastName": n["lastName"], "NameAlias_FirstName": n["firstName"],
                  "NameAlias_MiddleName": n["middleName"], "NameAlias_WholeName": n["wholeName"],
                  "NameAlias_NameLanguage": n["nameLanguage"].upper(), "NameAlias_Gender": n["gender"] or "",
                  "NameAlias_Title": n["title"], "NameAlias_Function": n["function"],
                  "NameAlias_LogicalId": next(sub), **reg_cols("NameAlias")} for n in e["names"]]
        cits = [{"Citizenship_Region": "", "Citizenship_CountryIso2Code": cc,
                 "Citizenship_CountryDescription": COUNTRIES[cc], "Citizenship_LogicalId": next(sub),
                 **reg_cols("Citizenship")} for cc in e["cits"]] or [{}]
        births = [{"BirthDate_BirthDate": b["birthdate"] or "", "BirthDate_Day": b.get("dayOfMonth", ""),
                   "BirthDate_Month": b.get("monthOfYear", ""), "BirthDate_Year": b.get("year", ""),
                   "BirthDate_YearRangeFrom": b.get("yearRangeFrom", ""),
                   "BirthDate_YearRangeTo": b.get("yearRangeTo", ""), "BirthDate_Circa": b["circa"],
                   "BirthDate_CalendarType": b["calendarType"], "BirthDate_Region": b["region"],
                   "BirthDate_Place": b["place"], "BirthDate_City": b["city"],
                   "BirthDate_CountryIso2Code": b["countryIso2Code"],
                   "BirthDate_CountryDescription": COUNTRIES[b["countryIso2Code"]], "BirthDate_LogicalId": next(sub),
                   **reg_cols("BirthDate")} for b in e["births"]] or [{}]
        addrs = [{"Address_City": a["city"], "Address_Street": a["street"], "Address_PoBox": a["poBox"],
                  "Address_ZipCode": a["zipCode"], "Address_Region": a["region"], "Address_Place": a["place"],
                  "Address_AsAtListingTime": a["asAtListingTime"],
                  "Address_ContactInfo": ";".join(f"{k}:{v}" for k, v in a["contact"]),
                  "Address_CountryIso2Code": a["countryIso2Code"],
                  "Address_CountryDescription": COUNTRIES[a["countryIso2Code"]], "Address_LogicalId": next(sub),
                  **reg_cols("Address")} for a in e["addrs"]] or [{}]
        ids = [{"Identification_Number": i["number"], "Identification_Diplomatic": i["diplomatic"],
                "Identification_KnownExpired": i["knownExpired"], "Identification_KnownFalse": i["knownFalse"],
                "Identification_ReportedLost": i["reportedLost"],
                "Identification_RevokedByIssuer": i["revokedByIssuer"], "Identification_IssuedBy": i["issuedBy"],
                "Identification_TypeCode": i["identificationTypeCode"],
                "Identification_TypeDescription": i["identificationTypeDescription"],
                "Identification_CountryIso2Code": i["countryIso2Code"],
                "Identification_CountryDescription": COUNTRIES[i["countryIso2Code"]],
                "Identification_LogicalId": next(sub), **reg_cols("Identification")} for i in e["ids"]] or [{}]
        for parts in itertools.product(names, addrs, births, ids, cits):
            row = dict(base)
            for part in parts:
                row.update(part)
            rows.writerow([row.get(col, "") for col in CSV_COLUMNS])
    return "\ufeff" + out.getvalue()


FILES = {
    # the Commission's style: declaration, default namespace, tabs, its attribute order, empty "" attributes
    "20220316-FULL-1_1(xsd).xml": dict(
        entities=FILE1, generated="2022-03-16T07:45:12.441+01:00", file_id=128745,
        writer=Writer(), declaration='<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'),
    # a prefixed namespace, CRLF, no indentation, attributes in alphabetical order, optional ones left out
    "fsf_iran_syria_dprk_2023-08-01.xml": dict(
        entities=FILE2, generated="2023-08-01T02:00:05+02:00", file_id=150112,
        writer=Writer(prefix="fsd", indent=None, newline="\r\n", order="alpha", empty_attrs=False, self_close=False),
        declaration="<?xml version='1.0' encoding='utf-8'?>"),
    # no declaration, two-space indent, attributes reversed, empty remarks, corrigenda, additionalInformation
    "eu_small_2025-06-20.xml": dict(
        entities=FILE3, generated="2025-06-20T10:15:00Z", file_id=181377,
        writer=Writer(indent="  ", order="reverse", empty_attrs=True, self_close=True), declaration=None,
        empty_remark=True, corrigendum=True),
}
CSV_FILE = ("20230801-FULL-1_1.csv", FILE2, "01/08/2023", "2023-08-01")

# what a reader of each record calls it, for the recount's own cross-check
KINDS = {name: {str(e["lid"]): e["kind"] for e in spec["entities"]} for name, spec in FILES.items()}
KINDS[CSV_FILE[0]] = {str(e["lid"]): e["kind"] for e in CSV_FILE[1] if not (e["delist"] and e["delist"] <= CSV_FILE[3])}


def build(out: Path = HERE) -> list[Path]:
    written = []
    for file_name, spec in FILES.items():
        path = out / file_name
        path.write_bytes(render_xml(**spec).encode("utf-8"))
        written.append(path)
    name_, entities, ddmmyyyy, iso = CSV_FILE
    path = out / name_
    path.write_bytes(render_csv(entities, generated_ddmmyyyy=ddmmyyyy, generated_iso=iso).encode("utf-8"))
    written.append(path)
    return written


if __name__ == "__main__":
    for p in build():
        print(p.relative_to(HERE.parents[2]), p.stat().st_size)
