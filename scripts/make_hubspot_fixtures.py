#!/usr/bin/env python3
"""(Re)create the HubSpot source-pack fixtures under tests/fixtures/sources/.

    python3 scripts/make_hubspot_fixtures.py

Writes, deterministically (fixed seed, no clock):
  hubspot_ui/          a small HubSpot portal exported from the UI: CSV files with the
                       property labels HubSpot writes ("Record ID", "Create Date",
                       "Became a Marketing Qualified Lead Date", "Deal Stage"), values as
                       labels ("Closed Won", "Organic Search"), dates "2025-03-04 10:15";
                       the deals' contacts in the deals export's "Associated Contact IDs"
  hubspot_synced/      the SAME portal as a warehouse connector writes it: internal
                       property names (hs_object_id, createdate, dealstage,
                       hs_lifecyclestage_marketingqualifiedlead_date), internal values
                       (closedwon, ORGANIC_SEARCH), ISO dates, `_fivetran_synced`,
                       `_fivetran_deleted` (soft-deleted rows only here), `archived`,
                       a deal_contact association table, Parquet deals with int64 /
                       float64 / timestamp[us, UTC] columns
  EXPECTED_HUBSPOT.md  facts computed here, independently of the pack's SQL, from the
                       definitions in the pack SQL comments (sources/hubspot/*.sql)

The portal is generated once as Python records; both spellings are emitted from those
records, so the canonical tables produced from the two must be identical.
"""

import csv
import os
import random
import shutil
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "sources"))
FIRST = datetime(2025, 1, 1)
LAST = datetime(2026, 10, 31, 23, 59)
SYNCED_AT = datetime(2026, 11, 1, 3, 0, 0)

rng = random.Random(20261101)


def clamp(dt):
    return min(max(dt, FIRST), LAST)


def rand_dt(lo, hi):
    """A timestamp between lo and hi at a whole minute (UI exports have minute precision)."""
    lo, hi = clamp(lo), clamp(hi)
    if hi <= lo:
        return lo.replace(second=0, microsecond=0)
    days = (hi.date() - lo.date()).days
    d = lo.date() + timedelta(days=rng.randint(0, days))
    t = datetime(d.year, d.month, d.day, rng.randint(7, 18), rng.choice([0, 5, 10, 15, 20, 30, 40, 45, 50]))
    return clamp(min(max(t, lo), hi)).replace(second=0, microsecond=0)


# --------------------------------------------------------------------------- picklists
# (internal value, UI label) pairs, as HubSpot defines them
INDUSTRIES = [("COMPUTER_SOFTWARE", "Computer Software"),
              ("INFORMATION_TECHNOLOGY_AND_SERVICES", "Information Technology and Services"),
              ("FINANCIAL_SERVICES", "Financial Services"), ("RETAIL", "Retail"),
              ("LOGISTICS_AND_SUPPLY_CHAIN", "Logistics and Supply Chain"),
              ("MEDICAL_DEVICES", "Medical Devices"), (None, None)]
SOURCES = [("ORGANIC_SEARCH", "Organic Search", "organic_search"), ("PAID_SEARCH", "Paid Search", "paid_search"),
           ("EMAIL_MARKETING", "Email Marketing", "email"), ("SOCIAL_MEDIA", "Organic Social", "social"),
           ("REFERRALS", "Referrals", "referral"), ("DIRECT_TRAFFIC", "Direct Traffic", "direct"),
           ("OFFLINE", "Offline Sources", "offline"), ("PAID_SOCIAL", "Paid Social", "paid_social"),
           ("OTHER_CAMPAIGNS", "Other Campaigns", "other"), (None, None, None)]
ROLES = [("DECISION_MAKER", "Decision Maker", "economic_buyer"), ("BUDGET_HOLDER", "Budget Holder", "economic_buyer"),
         ("CHAMPION", "Champion", "champion"), ("INFLUENCER", "Influencer", "influencer"),
         ("END_USER", "End User", "end_user"), ("LEGAL_AND_COMPLIANCE", "Legal & Compliance", "procurement"),
         ("BLOCKER", "Blocker", "unknown"), (None, None, "unknown"), (None, None, "unknown")]
MULTI_ROLE = ("DECISION_MAKER;CHAMPION", "Decision Maker;Champion", "unknown")  # unmapped
OPEN_STAGES = [("appointmentscheduled", "Appointment Scheduled"), ("qualifiedtobuy", "Qualified To Buy"),
               ("presentationscheduled", "Presentation Scheduled"),
               ("decisionmakerboughtin", "Decision Maker Bought-In"), ("contractsent", "Contract Sent")]
WON_STAGE = ("closedwon", "Closed Won")
LOST_STAGE = ("closedlost", "Closed Lost")
DEAL_TYPES = {"new_business": ("newbusiness", "New Business"), "expansion": ("existingbusiness", "Existing Business"),
              "renewal": ("renewal", "Renewal")}
PARTNER_TYPE = ("partner_deal", "Partner Deal")  # a portal's own option: unmapped
LIFECYCLE_LABEL = {"lead": ("lead", "Lead"), "marketingqualifiedlead": ("marketingqualifiedlead", "Marketing Qualified Lead"),
                   "salesqualifiedlead": ("salesqualifiedlead", "Sales Qualified Lead"),
                   "opportunity": ("opportunity", "Opportunity"), "customer": ("customer", "Customer")}
CALL_STATUS = [("COMPLETED", "Completed")] * 6 + [("NO_ANSWER", "No answer"), ("BUSY", "Busy")]
MEETING_OUTCOME = [("COMPLETED", "Completed")] * 5 + [("SCHEDULED", "Scheduled"), ("NO_SHOW", "No Show"),
                                                     ("CANCELED", "Canceled"), (None, None)]

COMPANY_NAMES = [
    ("Acme Analytics", "acme-analytics.com"), ("Globex Corporation", "www.globex.com"), ("Initech", "initech.io"),
    ("Umbrella Health", "https://umbrellahealth.com"), ("Hooli", "hooli.xyz"), ("Vandelay Industries", "vandelay.com"),
    ("Stark Logistics", "starklogistics.com"), ("Wayne Enterprises", "WAYNE-ENT.COM"),
    ("Müller Logistik GmbH", "mueller-logistik.de"), ("Société Nova SAS", "nova.fr"), ("Pied Piper", "piedpiper.com"),
    ("Soylent Foods", "soylentfoods.com"), ("Tyrell Systems", "tyrell.ai"), ("Cyberdyne Robotics", "cyberdyne.tech"),
    ("Aperture Labs", "aperturelabs.com"), ("Blue Sun Retail", "bluesun.shop"), ("Oscorp Materials", "oscorp.co.uk"),
    ("Nakatomi Trading", "nakatomi.jp"), ("Dunder Mifflin Paper", "dundermifflin.com"),
    ("Gringotts Finance", "gringotts.finance"), ("Monarch Solutions", "monarch-solutions.com"),
    ("Prestige Worldwide", None), ("Bluth Company", "bluthcompany.com"), ('Rekall "Memories" Ltd', "rekall.co"),
    ("Sterling Cooper", "sterlingcooper.com"), ("Los Pollos Hermanos", "lospollos.mx"), ("Wonka Confections", "wonka.com"),
    ("Duff Brewing", "duff.beer"), ("Black Mesa Research", "blackmesa.org"), ("Massive Dynamic", "massivedynamic.com"),
]
COUNTRIES = ["United States", "United States", "United States", "Germany", "France", "United Kingdom", "Canada",
             "Japan", None]
FIRST_NAMES = ["Ana", "Ben", "Chloé", "Dev", "Elena", "Femi", "Greta", "Hiro", "Ines", "Jonas", "Kara", "Liam"]
LAST_NAMES = ["Adams", "Chen", "Diaz", "Fischer", "García", "Kim", "Müller", "Nguyen", "O'Brien", "Patel", "Rossi"]
TITLES = ["CFO", "VP Finance", "Head of Operations", "IT Director", "Data Engineer", "Procurement Manager", "CTO",
          "Marketing Manager", "Analyst", None]


def domain_of(raw):
    """Definition of accounts.sql: without scheme, www., path, port or query, lower case."""
    if raw is None:
        return None
    w = raw.strip()
    if "://" in w:
        w = w.split("://", 1)[1]
    w = w.lower()
    if w.startswith("www."):
        w = w[4:]
    for ch in "/:?#":
        w = w.split(ch, 1)[0]
    return w or None


# --------------------------------------------------------------------------- the portal
companies = []
for i, (name, dom) in enumerate(COMPANY_NAMES):
    ind = rng.choice(INDUSTRIES)
    companies.append(dict(
        id=24011000100 + i * 37, name=name, domain=dom, industry=ind,
        employees=rng.choice([12, 35, 80, 150, 420, 900, 2500, None]), country=rng.choice(COUNTRIES),
        revenue=rng.choice([None, "2500000", "12000000", "48500000", "1250000.5"]),
        created=rand_dt(datetime(2025, 1, 2), datetime(2025, 8, 31)), deleted=False,
    ))
companies.append(dict(id=24011009999, name="Test Company (duplicate)", domain="acme-analytics.com",
                      industry=INDUSTRIES[0], employees=None, country=None, revenue=None,
                      created=datetime(2025, 3, 3, 9, 30), deleted=True))
live_companies = [c for c in companies if not c["deleted"]]

contacts = []
per_company = [4] * 30
for c_i, comp in enumerate(live_companies):
    for k in range(per_company[c_i]):
        n = len(contacts)
        fn, ln = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        created = rand_dt(comp["created"] + timedelta(days=1), comp["created"] + timedelta(days=200))
        stages = {}
        if rng.random() < 0.9:
            stages["lead"] = created + timedelta(minutes=rng.choice([0, 0, 5, 60]))
            if rng.random() < 0.6:
                stages["marketingqualifiedlead"] = rand_dt(stages["lead"] + timedelta(days=1), stages["lead"] + timedelta(days=40))
                if rng.random() < 0.55:
                    stages["salesqualifiedlead"] = rand_dt(stages["marketingqualifiedlead"] + timedelta(days=1),
                                                           stages["marketingqualifiedlead"] + timedelta(days=30))
        dom = domain_of(comp["domain"]) or "example.org"
        local = (fn[0] + ln).lower().replace("'", "").replace("ü", "ue").replace("é", "e").replace("í", "i")
        contacts.append(dict(
            id=1001 + n * 13, company=comp["id"], title=rng.choice(TITLES), email=f"{local}{n}@{dom}",
            created=created, role=rng.choice(ROLES), source=rng.choice(SOURCES), stages=stages, deleted=False,
        ))
contacts[17]["role"] = MULTI_ROLE
for j in range(3):  # soft-deleted in the connector only; nothing references them
    contacts.append(dict(id=900001 + j, company=live_companies[j]["id"], title=None,
                         email=f"old{j}@{domain_of(live_companies[j]['domain']) or 'example.org'}",
                         created=datetime(2025, 4, 1 + j, 10, 0), role=ROLES[-1], source=SOURCES[0],
                         stages={"lead": datetime(2025, 4, 1 + j, 10, 0)}, deleted=True))
live_contacts = [c for c in contacts if not c["deleted"]]
by_company = {}
for c in live_contacts:
    by_company.setdefault(c["company"], []).append(c)

deals = []
won_companies = set()
for i in range(62):
    comp = rng.choice(live_companies)
    created = rand_dt(comp["created"] + timedelta(days=10), datetime(2026, 9, 30))
    age = (LAST - created).days
    r = rng.random()
    if age < 45 or (age < 120 and r < 0.4):
        status = "open"
    else:
        status = "won" if r < 0.5 else ("lost" if r < 0.85 else "open")
    if status == "open":
        stage = rng.choice(OPEN_STAGES)
        close = (created + timedelta(days=rng.randint(20, 120))).date()
    else:
        stage = WON_STAGE if status == "won" else LOST_STAGE
        close = (created + timedelta(days=rng.randint(1, min(150, max(1, age - 1))))).date()
        if close <= created.date():
            close = created.date() + timedelta(days=1)
    typ = rng.choice(["expansion", "renewal", "expansion"]) if comp["id"] in won_companies else "new_business"
    if status == "won":
        won_companies.add(comp["id"])
    amount = Decimal(rng.choice([4800, 9600, 12000, 18000, 24000, 36000, 54000, 72000]))
    if rng.random() < 0.15:
        amount += Decimal("0.50")
    pool = by_company[comp["id"]]
    k = min(len(pool), rng.choice([0, 1, 1, 2, 2, 3]))
    deals.append(dict(
        id=9500000000 + i * 101, company=comp["id"], name=f"{comp['name']} - {created:%Y-%m}", created=created,
        close=close, amount=amount, stage=stage, status=status, type=DEAL_TYPES[typ], canonical_type=typ,
        contacts=[c["id"] for c in rng.sample(pool, k)], deleted=False,
    ))
nb = [d for d in deals[:60] if d["canonical_type"] == "new_business"]
for d in (nb[3], nb[11]):
    d["type"] = PARTNER_TYPE  # unmapped: read as new_business
nb[7]["type"] = (None, None)  # no Deal Type: new_business
for d in deals[60:]:
    d["deleted"] = True
    d["contacts"] = []
live_deals = [d for d in deals if not d["deleted"]]
contact_by_id = {c["id"]: c for c in contacts}
for d in sorted(live_deals, key=lambda d: d["created"]):  # a deal's contacts become opportunity, then customer
    for cid in d["contacts"]:
        st = contact_by_id[cid]["stages"]
        st.setdefault("opportunity", d["created"] + timedelta(minutes=5))
        if d["status"] == "won":
            st.setdefault("customer", datetime.combine(d["close"], datetime.min.time()) + timedelta(hours=9))

engagements = []  # (kind, record)
for kind, count, base in (("call", 62, 46000000000), ("email", 50, 47000000000), ("meeting", 40, 48000000000)):
    for i in range(count):
        who = rng.choice(live_contacts)
        at = rand_dt(who["created"] + timedelta(hours=2), who["created"] + timedelta(days=220))
        rec = dict(id=base + i * 11, at=at, contacts=[who["id"]], status=None, outcome=None, start=None, deleted=False)
        if kind == "call":
            rec["status"] = rng.choice(CALL_STATUS)
        if kind == "meeting":
            rec["outcome"] = rng.choice(MEETING_OUTCOME)
            rec["start"] = at + timedelta(days=rng.randint(1, 10))
            rec["start"] = clamp(rec["start"]).replace(minute=rng.choice([0, 30]))
        if i % 17 == 5:
            rec["contacts"] = []  # an engagement logged without a contact: no touch
        engagements.append((kind, rec))
calls = [r for k, r in engagements if k == "call"]
calls[3]["status"] = ("COMPLETED", "Completed")
calls[3]["contacts"] = [calls[3]["contacts"][0], next(c["id"] for c in live_contacts if c["id"] != calls[3]["contacts"][0])]
for r in calls[60:]:
    r["deleted"] = True  # soft-deleted in the connector only


# --------------------------------------------------------------------------- emitting
def ui_dt(v):
    return "" if v is None else v.strftime("%Y-%m-%d %H:%M")


def ui_date(v):
    return "" if v is None else v.isoformat()


def iso(v):
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return v.isoformat() + "T00:00:00.000Z"


def s(v):
    return "" if v is None else str(v)


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def synced_at(i):
    return SYNCED_AT + timedelta(seconds=i * 3, microseconds=(i * 123457) % 1000000)


def lifecycle_now(c):
    order = ["lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"]
    last = [s_ for s_ in order if s_ in c["stages"]]
    return LIFECYCLE_LABEL[last[-1]] if last else ("subscriber", "Subscriber")


def emit(ui_dir, syn_dir):
    for d in (ui_dir, syn_dir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    # companies
    write_csv(os.path.join(ui_dir, "hubspot_companies.csv"),
              ["Record ID", "Company name", "Company Domain Name", "Industry", "Number of Employees",
               "Country/Region", "Annual Revenue", "Create Date", "Company owner"],
              [[c["id"], c["name"], s(c["domain"]), s(c["industry"][1]), s(c["employees"]), s(c["country"]),
                s(c["revenue"]), ui_dt(c["created"]), "Jane Rep"] for c in live_companies])
    write_csv(os.path.join(syn_dir, "hs_company.csv"),
              ["hs_object_id", "name", "domain", "industry", "numberofemployees", "country", "annualrevenue",
               "createdate", "archived", "_fivetran_synced", "_fivetran_deleted"],
              [[c["id"], c["name"], s(c["domain"]), s(c["industry"][0]),
                "" if c["employees"] is None else f"{float(c['employees'])}", s(c["country"]),
                "" if c["revenue"] is None else f"{float(c['revenue'])}", iso(c["created"]), "false",
                synced_at(i).isoformat(), "true" if c["deleted"] else "false"] for i, c in enumerate(companies)])
    # contacts
    STAGES = ["lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"]
    UI_STAGE = ["Became a Lead Date", "Became a Marketing Qualified Lead Date", "Became a Sales Qualified Lead Date",
                "Became an Opportunity Date", "Became a Customer Date"]
    write_csv(os.path.join(ui_dir, "hubspot_contacts.csv"),
              ["Record ID", "First Name", "Last Name", "Email", "Job Title", "Associated Company ID", "Create Date",
               "Lifecycle Stage", "Buying Role", "Original Source"] + UI_STAGE,
              [[c["id"], c["email"].split("@")[0], "", c["email"], s(c["title"]), c["company"], ui_dt(c["created"]),
                lifecycle_now(c)[1], s(c["role"][1]), s(c["source"][1])]
               + [ui_dt(c["stages"].get(st)) for st in STAGES] for c in live_contacts])
    write_csv(os.path.join(syn_dir, "hs_contacts.csv"),
              ["hs_object_id", "firstname", "lastname", "email", "jobtitle", "associatedcompanyid", "createdate",
               "lifecyclestage", "hs_buying_role", "hs_analytics_source"]
              + [f"hs_lifecyclestage_{st}_date" for st in STAGES] + ["archived", "_fivetran_synced", "_fivetran_deleted"],
              [[c["id"], c["email"].split("@")[0], "", c["email"], s(c["title"]), c["company"], iso(c["created"]),
                lifecycle_now(c)[0], s(c["role"][0]), s(c["source"][0])]
               + [iso(c["stages"].get(st)) for st in STAGES]
               + ["false", synced_at(i).isoformat(), "true" if c["deleted"] else "false"] for i, c in enumerate(contacts)])
    # deals: UI with Associated Contact IDs; connector as Parquet plus deal_contact
    write_csv(os.path.join(ui_dir, "hubspot_deals.csv"),
              ["Record ID", "Deal Name", "Pipeline", "Deal Stage", "Deal Type", "Amount", "Create Date", "Close Date",
               "Associated Company ID", "Associated Contact IDs"],
              [[d["id"], d["name"], "Sales Pipeline", d["stage"][1], s(d["type"][1]), f"{d['amount']}",
                ui_dt(d["created"]), ui_date(d["close"]), d["company"], ";".join(str(x) for x in d["contacts"])]
               for d in live_deals])
    cols = {
        "hs_object_id": pa.array([d["id"] for d in deals], pa.int64()),
        "dealname": pa.array([d["name"] for d in deals], pa.string()),
        "pipeline": pa.array(["default"] * len(deals), pa.string()),
        "dealstage": pa.array([d["stage"][0] for d in deals], pa.string()),
        "dealtype": pa.array([d["type"][0] for d in deals], pa.string()),
        "amount": pa.array([float(d["amount"]) for d in deals], pa.float64()),
        "createdate": pa.array([d["created"] for d in deals], pa.timestamp("us", tz="UTC")),
        "closedate": pa.array([datetime.combine(d["close"], datetime.min.time()) for d in deals],
                              pa.timestamp("us", tz="UTC")),
        "associatedcompanyid": pa.array([d["company"] for d in deals], pa.int64()),
        "archived": pa.array([False] * len(deals), pa.bool_()),
        "_fivetran_synced": pa.array([synced_at(i) for i in range(len(deals))], pa.timestamp("us", tz="UTC")),
        "_fivetran_deleted": pa.array([d["deleted"] for d in deals], pa.bool_()),
    }
    pq.write_table(pa.table(cols), os.path.join(syn_dir, "hubspot_deal_data.parquet"))
    write_csv(os.path.join(syn_dir, "hs_deal_contacts.csv"),
              ["deal_id", "contact_id", "type_id", "category", "_fivetran_synced"],
              [[d["id"], cid, 3, "HUBSPOT_DEFINED", synced_at(j).isoformat()]
               for j, (d, cid) in enumerate((d, cid) for d in live_deals for cid in d["contacts"])])
    # engagements
    for kind, ui_name, syn_name in (("call", "hubspot_calls.csv", "hs_call.csv"),
                                    ("email", "hubspot_emails.csv", "hs_email.csv"),
                                    ("meeting", "hubspot_meetings.csv", "hs_meeting.csv")):
        recs = [r for k, r in engagements if k == kind]
        ui_h = ["Record ID", "Activity date"]
        syn_h = ["hs_object_id", "hs_timestamp"]
        if kind == "call":
            ui_h += ["Call status"]
            syn_h += ["hs_call_status"]
        if kind == "meeting":
            ui_h += ["Meeting start time", "Meeting outcome"]
            syn_h += ["hs_meeting_start_time", "hs_meeting_outcome"]
        ui_rows, syn_rows = [], []
        for r in recs:
            extra_ui, extra_syn = [], []
            if kind == "call":
                extra_ui, extra_syn = [r["status"][1]], [r["status"][0]]
            if kind == "meeting":
                extra_ui = [ui_dt(r["start"]), s(r["outcome"][1])]
                extra_syn = [iso(r["start"]), s(r["outcome"][0])]
            if not r["deleted"]:
                ui_rows.append([r["id"], ui_dt(r["at"])] + extra_ui + [";".join(str(x) for x in r["contacts"])])
            # connector: one row per engagement and contact (engagement joined with its contacts)
            for cid in (r["contacts"] or [None]):
                syn_rows.append([r["id"], iso(r["at"])] + extra_syn + [s(cid), "false", synced_at(len(syn_rows)).isoformat(),
                                                                       "true" if r["deleted"] else "false"])
        write_csv(os.path.join(ui_dir, ui_name), ui_h + ["Associated Contact IDs"], ui_rows)
        write_csv(os.path.join(syn_dir, syn_name), syn_h + ["contact_id", "archived", "_fivetran_synced", "_fivetran_deleted"],
                  syn_rows)


# --------------------------------------------------------------------------- expected
def expected():
    """Canonical facts from the records and the pack SQL comments, not from the SQL."""
    e = {}
    e["accounts"] = len(live_companies)
    e["contacts"] = len(live_contacts)
    stage_n = Counter()
    for c in live_contacts:
        for st in c["stages"]:
            stage_n[{"lead": "lead", "marketingqualifiedlead": "mql", "salesqualifiedlead": "sql",
                     "opportunity": "opportunity", "customer": "customer"}[st]] += 1
    e["lifecycle_by_stage"] = stage_n
    e["lifecycle"] = sum(stage_n.values())
    e["status"] = Counter(d["status"] for d in live_deals)
    e["won_sum"] = sum(d["amount"] for d in live_deals if d["status"] == "won")
    e["opp_type"] = Counter("new_business" if d["type"] in (PARTNER_TYPE, (None, None)) else d["canonical_type"]
                            for d in live_deals)
    e["opportunities"] = len(live_deals)
    pairs = {(d["id"], cid) for d in live_deals for cid in d["contacts"]}
    e["opportunity_contacts"] = len(pairs)
    role_of = {c["id"]: c["role"][2] for c in live_contacts}
    e["oc_roles"] = Counter(role_of[cid] for _, cid in pairs)
    e["contact_roles"] = Counter(c["role"][2] for c in live_contacts)
    live_ids = {c["id"] for c in live_contacts}
    src = [c for c in live_contacts if c["source"][0] is not None]
    e["touch_source"] = len(src)
    e["touch_channels"] = Counter(c["source"][2] for c in src)
    tc = Counter()
    for kind, r in engagements:
        if r["deleted"]:
            continue
        if kind == "call" and r["status"][0] != "COMPLETED":
            continue
        if kind == "meeting" and r["outcome"][0] in ("NO_SHOW", "CANCELED"):
            continue
        tc[kind] += sum(1 for cid in r["contacts"] if cid in live_ids)
    e["touch_sales"] = tc
    e["touches"] = e["touch_source"] + sum(tc.values())
    e["eng_rows"] = Counter(k for k, r in engagements)
    e["eng_no_contact"] = Counter(k for k, r in engagements if not r["contacts"] and not r["deleted"])
    e["call_not_completed"] = sum(1 for r in calls if not r["deleted"] and r["status"][0] != "COMPLETED")
    e["meeting_not_held"] = sum(1 for k, r in engagements if k == "meeting" and r["outcome"][0] in ("NO_SHOW", "CANCELED"))
    e["syn_rows"] = {
        "company": len(companies), "contact": len(contacts), "deal": len(deals),
        "deal_contact": len(pairs),
        "call": sum(max(1, len(r["contacts"])) for r in calls),
        "email": sum(max(1, len(r["contacts"])) for k, r in engagements if k == "email"),
        "meeting": sum(max(1, len(r["contacts"])) for k, r in engagements if k == "meeting"),
    }
    e["syn_deleted"] = {"company": sum(c["deleted"] for c in companies), "contact": sum(c["deleted"] for c in contacts),
                        "deal": sum(d["deleted"] for d in deals), "deal_contact": 0,
                        "call": sum(max(1, len(r["contacts"])) for r in calls if r["deleted"]), "email": 0, "meeting": 0}
    e["ui_rows"] = {"company": len(live_companies), "contact": len(live_contacts), "deal": len(live_deals),
                    "call": sum(1 for r in calls if not r["deleted"]), "email": e["eng_rows"]["email"],
                    "meeting": e["eng_rows"]["meeting"]}
    e["partner"] = sum(1 for d in live_deals if d["type"] == PARTNER_TYPE)
    e["multi_role"] = sum(1 for c in live_contacts if c["role"] == MULTI_ROLE)
    e["domains"] = [(c["domain"], domain_of(c["domain"])) for c in live_companies if c["domain"] != domain_of(c["domain"])]
    e["industry"] = Counter(" ".join(w.capitalize() for w in c["industry"][1].split()) if c["industry"][1] else None
                            for c in live_companies)
    e["closed_in_oct"] = Counter(d["status"] for d in live_deals if d["status"] != "open" and d["close"] >= date(2026, 10, 1))
    return e


def write_expected(e):
    L = []
    p = L.append
    p("# HubSpot source-pack fixtures: expected facts")
    p("")
    p("Generated by `scripts/make_hubspot_fixtures.py` (do not edit by hand; re-run the script).")
    p("Every number below is computed in that script from the generated records and the")
    p("definitions written in the pack SQL comments (`sources/hubspot/*.sql`), not by running")
    p("revalign or its SQL.")
    p("")
    p("`hubspot_ui/` is a UI export (property labels: `Record ID`, `Create Date`, `Deal Stage`,")
    p("`Became a Marketing Qualified Lead Date`; values as labels: `Closed Won`, `Organic Search`;")
    p("dates `2025-03-04 10:15`, close dates `2025-03-04`; the deals' contacts in the deals export's")
    p("`Associated Contact IDs`, `;`-separated). `hubspot_synced/` is the same portal as a connector")
    p("writes it (internal names: `hs_object_id`, `createdate`, `dealstage`,")
    p("`hs_lifecyclestage_marketingqualifiedlead_date`; internal values: `closedwon`, `ORGANIC_SEARCH`;")
    p("`2025-03-04T10:15:00.000Z`; `_fivetran_synced`, `_fivetran_deleted`, `archived`;")
    p("`hubspot_deal_data.parquet` with int64 / float64 / timestamp[us, UTC] columns; the")
    p("associations in `hs_deal_contacts.csv`; engagements one row per engagement and contact).")
    p("Both folders must give the same canonical tables and the numbers below, with")
    p("`--source sources/hubspot`, and load with 0 rejected rows.")
    p("")
    p("### Objects read (rows read include soft-deleted rows)")
    p("")
    p("| object | UI file | rows | synced file | rows read | soft-deleted dropped |")
    p("|---|---|---:|---|---:|---:|")
    files = {"company": ("hubspot_companies.csv", "hs_company.csv"), "contact": ("hubspot_contacts.csv", "hs_contacts.csv"),
             "deal": ("hubspot_deals.csv", "hubspot_deal_data.parquet"), "deal_contact": ("(none)", "hs_deal_contacts.csv"),
             "call": ("hubspot_calls.csv", "hs_call.csv"), "email": ("hubspot_emails.csv", "hs_email.csv"),
             "meeting": ("hubspot_meetings.csv", "hs_meeting.csv")}
    for o, (uf, sf) in files.items():
        p(f"| {o} | {uf} | {e['ui_rows'].get(o, '-')} | {sf} | {e['syn_rows'][o]} | {e['syn_deleted'][o]} |")
    p("")
    p("The UI export has no soft-deleted rows (HubSpot does not export deleted records); in the")
    p("synced folder they are rows with `_fivetran_deleted` true: "
      f"{e['syn_deleted']['company']} company, {e['syn_deleted']['contact']} contacts, "
      f"{e['syn_deleted']['deal']} deals, {e['syn_deleted']['call']} calls, referenced by nothing.")
    p("A synced call with two contacts is two rows (one UI row with `id1;id2`).")
    p("")
    p("### Canonical tables (rows; every one is expected to load, 0 rejected)")
    p("")
    p("| table | rows |")
    p("|---|---:|")
    for t in ("accounts", "contacts", "lifecycle", "opportunities", "opportunity_contacts", "touches"):
        p(f"| {t} | {e[t]} |")
    p("| campaigns, spend, subscriptions | absent |")
    p("")
    p("### Details")
    p("")
    ls = e["lifecycle_by_stage"]
    p(f"- lifecycle = {e['lifecycle']}: " + ", ".join(f"{k} {ls[k]}" for k in ("lead", "mql", "sql", "opportunity", "customer")
                                                     if ls[k]) + " (one row per `Became a ... Date` set).")
    st = e["status"]
    p(f"- opportunities: won {st['won']}, lost {st['lost']}, open {st['open']} (total {e['opportunities']}); "
      f"sum of won amount = {e['won_sum']:.2f}.")
    oc = e["closed_in_oct"]
    p(f"  Deals closed in 2026-10: won {oc['won']}, lost {oc['lost']} (open as of a 2026-09 report month).")
    ot = e["opp_type"]
    p(f"- opportunity type: new_business {ot['new_business']} (includes the {e['partner']} `Partner Deal` / "
      f"`partner_deal` rows and 1 row without a Deal Type), expansion {ot['expansion']}, renewal {ot['renewal']}.")
    p("- opportunities.source is `unknown` and primary_contact_id empty for every deal.")
    p(f"- opportunity_contacts = {e['opportunity_contacts']} (distinct deal-contact pairs); roles: "
      + ", ".join(f"{k} {v}" for k, v in sorted(e["oc_roles"].items())) + ".")
    p("- contacts.role: " + ", ".join(f"{k} {v}" for k, v in sorted(e["contact_roles"].items())) + ".")
    ts = e["touch_sales"]
    p(f"- touches = {e['touches']}: original source {e['touch_source']} (marketing: "
      + ", ".join(f"{k} {v}" for k, v in sorted(e["touch_channels"].items()))
      + f"); calls {ts['call']}, sales e-mails {ts['email']}, meetings {ts['meeting']} (sales).")
    p(f"  Not touches: {e['call_not_completed']} calls not completed (`No answer`/`NO_ANSWER`, `Busy`/`BUSY`), "
      f"{e['meeting_not_held']} meetings `No Show`/`Canceled`, and engagements without a contact "
      f"(calls {e['eng_no_contact']['call']}, e-mails {e['eng_no_contact']['email']}, "
      f"meetings {e['eng_no_contact']['meeting']}); one completed call has two contacts (two touches).")
    p("")
    p("### Unmapped picklist values (reported once each, with counts)")
    p("")
    p("| folder | map | column | value | rows | read as |")
    p("|---|---|---|---|---:|---|")
    p(f"| hubspot_ui | deal_type | deal.deal_type | Partner Deal | {e['partner']} | new_business |")
    p(f"| hubspot_ui | buying_role | contact.buying_role | Decision Maker;Champion | {e['multi_role']} | unknown |")
    p(f"| hubspot_synced | dealtype | deal.dealtype | partner_deal | {e['partner']} | new_business |")
    p(f"| hubspot_synced | hs_buying_role | contact.hs_buying_role | DECISION_MAKER;CHAMPION | {e['multi_role']} | unknown |")
    p("")
    p("No other value is unmapped (empty values are missing, not unmapped).")
    p("")
    p("### Account domains and industries")
    p("")
    p("Domains changed by the normalisation: " + ", ".join(f"`{a}` -> `{b}`" for a, b in e["domains"])
      + "; one company has no domain.")
    p("Industries (label and internal value alike): "
      + ", ".join(f"{k or '(empty)'} {v}" for k, v in sorted(e["industry"].items(), key=lambda kv: kv[0] or "")) + ".")
    p("")
    with open(os.path.join(ROOT, "EXPECTED_HUBSPOT.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(L))


def main():
    ids = [c["id"] for c in contacts]
    assert len(ids) == len(set(ids))
    assert len({d["id"] for d in deals}) == len(deals)
    for d in live_deals:
        assert datetime.combine(d["close"], datetime.min.time()) > d["created"] or d["status"] == "open"
    emit(os.path.join(ROOT, "hubspot_ui"), os.path.join(ROOT, "hubspot_synced"))
    write_expected(expected())


if __name__ == "__main__":
    main()
