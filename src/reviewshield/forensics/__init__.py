"""Phone-export forensics: a buyer's SMS and call log, read for verification-code bombing, call
floods and late-night contact, correlated with the review and the complaint.

The pure core (no Django, no clock, no ORM; mypy --strict) — import these freely:

    records    `Record` (an SMS or a call), number keys, unknown contacts
    parse      `ExportReader`: SMS Backup & Restore sms.xml / calls.xml and our CSV, streamed with
               expat (DTDs and entities refused); `ExportError(code, **params)`
    rules      `rules.toml`: thresholds and the finding → tier mapping, validated by `load()`
    analysis   `analyse(sources, tz=…, anchors=…)` → `Analysis` (findings with their records,
               correlation with the anchors, the suggested tier)
    text       summary lines and errors as codes + params, rendered in zh-Hans or English
    chart      the timeline as a hand-written, escaped SVG
    report     the report document and its canonical bytes (stored and logged as evidence)
    synthetic  writers and generators of exports (tests, benchmark, demo)

The Django side (imports Django; never imported by the modules above):

    models     `ForensicReport`, one per phone-export evidence item
    services   `forensics_schedule` (in the upload's transaction), `forensic_report_store`
               (the handler's one transaction: report row, report evidence item, events, log),
               `report_findings` for the alerts
    handlers   the `forensics.analyse` deadline handler the worker runs
    selectors  who may read which report

Errors:

    ExportError     the file cannot be read as a phone export (a code and its params)
    RulesError      rules.toml is broken (names the key and the problem)
"""
