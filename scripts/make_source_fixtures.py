#!/usr/bin/env python3
"""(Re)create the source-pack fixtures under tests/fixtures/sources/.

    python3 scripts/make_source_fixtures.py

Writes, deterministically (fixed seed, no clock):
  salesforce_api/     a small Salesforce org, API-name headers (Data Loader style)
  salesforce_synced/  the SAME org in warehouse-connector spelling (snake_case,
                      sf_* file names, _fivetran_* columns, Parquet opportunities)
  stripe/             a Stripe Dashboard subscriptions export plus canonical
                      accounts/contacts/opportunities so the folder runs on its own
  EXPECTED.md         facts computed here, independently of the packs' SQL, from the
                      definitions in the pack SQL comments (sources/*/*.sql)

The org is generated once as Python records; both Salesforce spellings are emitted
from those records, so the canonical tables produced from the two must be identical.
"""

import csv
import os
import random
import shutil
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "sources")
ROOT = os.path.normpath(ROOT)
FIRST = datetime(2025, 1, 1)
LAST = datetime(2026, 10, 31, 23, 59, 59)
SYNCED_AT = datetime(2026, 11, 1, 2, 0, 0)

rng = random.Random(20260417)

# --------------------------------------------------------------------------- ids
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CHECK = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def sf_id(prefix, n):
    """An 18-character Salesforce id: 3-char key prefix, pod/instance, counter, checksum."""
    body = ""
    for _ in range(5):
        body = B62[n % 62] + body
        n //= 62
    id15 = prefix + "8d" + "Qw000" + body  # key prefix, instance, reserved, counter
    assert len(id15) == 15, id15
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, c in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= c <= "Z":
                bits |= 1 << i
        suffix += CHECK[bits]
    return id15 + suffix


def clamp(dt):
    return min(max(dt, FIRST), LAST)


def rand_dt(lo, hi):
    """A timestamp between lo and hi, at a business-ish time, whole seconds."""
    lo, hi = clamp(lo), clamp(hi)
    if hi <= lo:
        return lo
    days = (hi.date() - lo.date()).days
    d = lo.date() + timedelta(days=rng.randint(0, days))
    t = datetime(d.year, d.month, d.day, rng.randint(7, 18), rng.choice([0, 5, 10, 15, 20, 30, 40, 45, 50]), rng.randint(0, 59))
    return clamp(min(max(t, lo), hi))


def day_after(dt, lo_days, hi_days):
    return clamp(dt + timedelta(days=rng.randint(lo_days, hi_days))).date()


# --------------------------------------------------------------------------- the org
ACCOUNT_NAMES = [
    ("Acme Analytics", "https://www.acme-analytics.com/"), ("Globex Corporation", "http://globex.com"),
    ("Initech, Inc.", "initech.io"), ("Umbrella Health", "https://umbrellahealth.com/en-us/home"),
    ("Hooli", "www.hooli.xyz"), ("Vandelay Industries", "https://www.vandelay.com/?utm_source=crm"),
    ("Stark Logistics", "https://starklogistics.com:443/"), ("Wayne Enterprises", "https://wayne-ent.com"),
    ("Müller Logistik GmbH", "https://www.mueller-logistik.de"), ("Société Nova SAS", "https://nova.fr/"),
    ("Pied Piper", "piedpiper.com"), ("Soylent Foods", "http://www.soylentfoods.com"),
    ("Tyrell Systems", "https://tyrell.ai"), ("Cyberdyne Robotics", "https://cyberdyne.tech/#about"),
    ("Aperture Labs", "https://aperturelabs.com"), ("Blue Sun Retail", "bluesun.shop"),
    ("Oscorp Materials", "https://www.oscorp.co.uk/materials"), ("Nakatomi Trading", "https://nakatomi.jp"),
    ("Dunder Mifflin Paper", "http://dundermifflin.com/"), ("Gringotts Finance", "https://gringotts.finance"),
    ("Monarch Solutions", "https://monarch-solutions.com"), ("Prestige Worldwide", ""),
    ("Bluth Company", "https://www.bluthcompany.com"), ("Krusty Krab Holdings", "krustykrab.com"),
    ("Sterling Cooper", "https://sterlingcooper.com"), ("Los Pollos Hermanos", "https://www.lospollos.mx"),
    ("Wonka Confections", "https://wonka.com"), ("Duff Brewing", "https://duff.beer/"),
    ("Black Mesa Research", "https://blackmesa.org"), ("Massive Dynamic", "https://massivedynamic.com"),
    ('Rekall "Memories" Ltd', "https://rekall.co"), ("Virtucon", "virtucon.net"),
    ("Zorg Industries", "https://www.zorg.fr"), ("Encom", "https://encom.com"),
    ("Weyland Freight", "https://weylandfreight.com"), ("Gekko & Co", "https://gekko.co"),
    ("Ollivander Supplies", ""), ("Spacely Sprockets", "https://spacelysprockets.com"),
    ("Cogswell Cogs", "http://cogswellcogs.com"), ("Nordlicht AB", "https://nordlicht.se"),
]
INDUSTRIES = ["Technology", "Healthcare", "Manufacturing", "Retail", "Finance", "Transportation", "Media", ""]
COUNTRIES = ["United States", "United States", "United States", "Germany", "France", "United Kingdom", "Canada", "Sweden", "Japan", "Mexico"]
FIRST_NAMES = ["Ana", "Ben", "Chloé", "Dev", "Elena", "Femi", "Greta", "Hiro", "Ines", "Jonas", "Kara", "Liam", "Maya",
               "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoë"]
LAST_NAMES = ["Adams", "Björk", "Chen", "Diaz", "Evans", "Fischer", "García", "Hughes", "Ivanova", "Jones", "Kim",
              "Lopez", "Müller", "Nguyen", "O'Brien", "Patel", "Quintero", "Rossi", "Smith", "Tanaka", "Ueda",
              "Varga", "Walsh", "Xu", "Young", "Zimmer"]
TITLES = ["CFO", "VP Finance", "Head of Operations", "IT Director", "Data Engineer", "Procurement Manager",
          "CTO", "Marketing Manager", "Analyst", "COO", "Controller", "Solutions Architect"]


def domain_of(website):
    """Definition of accounts.sql: Website without scheme, www., path, port or query, lower case."""
    w = website.strip()
    if "://" in w:
        w = w.split("://", 1)[1]
    w = w.lower()
    if w.startswith("www."):
        w = w[4:]
    for ch in "/:?#":
        w = w.split(ch, 1)[0]
    return w or None


accounts = []
for i, (name, website) in enumerate(ACCOUNT_NAMES):
    created = rand_dt(datetime(2025, 1, 2), datetime(2025, 10, 31))
    accounts.append(dict(
        Id=sf_id("001", 1000 + i), Name=name, Website=website, Industry=rng.choice(INDUSTRIES),
        NumberOfEmployees=rng.choice([12, 35, 80, 150, 420, 900, 2500, 11000, ""]),
        BillingCountry=rng.choice(COUNTRIES),
        AnnualRevenue=rng.choice(["", "2500000", "12000000", "48500000", "310000000", "1250000.5"]),
        CreatedDate=created, IsDeleted=False,
    ))

# Contacts: 149 live + 1 soft-deleted that nothing references.
per_account = [3] * 40
for _ in range(149 - 120):
    per_account[rng.randrange(40)] += 1
contacts = []
n = 0
for a, k in zip(accounts, per_account):
    for _ in range(k):
        fn, ln = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        dom = domain_of(a["Website"]) or "example.org"
        local = (fn[0] + ln).lower().replace("'", "").replace("ü", "ue").replace("é", "e").replace("ö", "o").replace("í", "i").replace("ë", "e")
        contacts.append(dict(
            Id=sf_id("003", 2000 + n), AccountId=a["Id"], FirstName=fn, LastName=ln,
            Title=rng.choice(TITLES), Email=f"{local}{n}@{dom}",
            CreatedDate=rand_dt(a["CreatedDate"] + timedelta(days=1), a["CreatedDate"] + timedelta(days=150)),
            MQL_Date__c=None, IsDeleted=False,
        ))
        n += 1
deleted_contact = dict(
    Id=sf_id("003", 2000 + n), AccountId=accounts[7]["Id"], FirstName="Test", LastName="Duplicate",
    Title="", Email="test.duplicate@wayne-ent.com", CreatedDate=datetime(2025, 6, 3, 9, 12, 44),
    MQL_Date__c=None, IsDeleted=True,
)
contacts.append(deleted_contact)
live_contacts = [c for c in contacts if not c["IsDeleted"]]

# Leads: 120, 60 converted, each to its own (existing, live) contact.
converted_targets = rng.sample(live_contacts, 60)
leads = []
for i in range(120):
    created = rand_dt(datetime(2025, 1, 2), datetime(2026, 9, 30))
    lead = dict(Id=sf_id("00Q", 3000 + i), CreatedDate=created, IsDeleted=False)
    if i < 60:
        c = converted_targets[i]
        # the lead came before the contact it was converted to
        created = rand_dt(c["CreatedDate"] - timedelta(days=90), c["CreatedDate"] - timedelta(days=8))
        conv = c["CreatedDate"].date()
        mql = None
        if rng.random() < 0.8:
            mql = (created + timedelta(days=rng.randint(1, max(1, (conv - created.date()).days - 1)))).date()
            mql = min(mql, conv)
        acc = next(a for a in accounts if a["Id"] == c["AccountId"])
        lead.update(FirstName=c["FirstName"], LastName=c["LastName"], Company=acc["Name"], Email=c["Email"],
                    Status="Closed - Converted", LeadSource=rng.choice(["Web", "Webinar", "Trade Show", "Advertisement", "Email"]),
                    CreatedDate=created, IsConverted=True, ConvertedContactId=c["Id"], ConvertedAccountId=c["AccountId"],
                    ConvertedDate=conv, MQL_Date__c=mql)
    else:
        fn, ln = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = rng.choice(["Brightline Labs", "Kestrel Data", "Harbor & Pine", "Quanta Retail", "Lumen Ops", "Riverbend Clinics", "Orchid Media"])
        mql = (created + timedelta(days=rng.randint(1, 20))).date() if rng.random() < 0.35 else None
        if mql and datetime.combine(mql, datetime.min.time()) > LAST:
            mql = None
        lead.update(FirstName=fn, LastName=ln, Company=company,
                    Email=f"{fn[0].lower()}.{ln.lower().replace(chr(39), '')}{i}@{company.split()[0].lower()}.example",
                    Status=rng.choice(["Open - Not Contacted", "Working - Contacted", "Closed - Not Converted"]),
                    LeadSource=rng.choice(["Web", "Purchased List", "Webinar", "Cold Call", ""]),
                    IsConverted=False, ConvertedContactId=None, ConvertedAccountId=None, ConvertedDate=None, MQL_Date__c=mql)
    leads.append(lead)
rng.shuffle(leads)
converted_contact_ids = {l["ConvertedContactId"] for l in leads if l["IsConverted"]}
for c in live_contacts:  # a few direct contacts carry their own MQL date
    if c["Id"] not in converted_contact_ids and rng.random() < 0.3:
        c["MQL_Date__c"] = day_after(c["CreatedDate"], 1, 40)
open_leads = [l for l in leads if not l["IsConverted"]]

# Opportunities: 80 live + 2 soft-deleted.
OPEN_STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Proposal/Price Quote", "Negotiation/Review"]
SOURCES = ["Web", "Advertisement", "Trade Show", "Webinar", "Partner Referral", "Employee Referral", "Cold Call",
           "Outbound", "Customer", "Email", "Other", ""]
opps = []
won_accounts = set()
for i in range(82):
    a = rng.choice(accounts)
    created = rand_dt(max(a["CreatedDate"] + timedelta(days=5), datetime(2025, 1, 6)), datetime(2026, 9, 30))
    age = (LAST - created).days
    r = rng.random()
    if age < 45 or (age < 120 and r < 0.5):
        status = "open"
    else:
        status = "won" if r < 0.55 else ("lost" if r < 0.9 else "open")
    if status == "open":
        close = day_after(created, 10, 120)
        stage = rng.choice(OPEN_STAGES)
    else:
        close = day_after(created, 1, min(150, max(1, age - 1)))
        if close <= created.date():
            close = created.date() + timedelta(days=1)
        stage = "Closed Won" if status == "won" else "Closed Lost"
    if a["Id"] in won_accounts:
        typ = rng.choice(["Existing Customer - Upgrade", "Renewal", "Existing Customer - Upgrade", "New Business"])
    else:
        typ = "New Business"
    if status == "won":
        won_accounts.add(a["Id"])
    amount = Decimal(rng.choice([4800, 9600, 12000, 18000, 24000, 36000, 54000, 72000, 120000]))
    if rng.random() < 0.15:
        amount += Decimal("0.50")
    opps.append(dict(
        Id=sf_id("006", 4000 + i), AccountId=a["Id"], Name=f"{a['Name']} - {typ} {created:%Y-%m}",
        StageName=stage, IsClosed=status != "open", IsWon=status == "won", CloseDate=close,
        Amount=amount, Type=typ, LeadSource=rng.choice(SOURCES), CreatedDate=created, IsDeleted=False,
    ))
# three org-specific "Partner Deal" types, one opportunity without a Type
nb = [o for o in opps[:80] if o["Type"] == "New Business"]
for o in rng.sample(nb, 4)[:3]:
    o["Type"] = "Partner Deal"
    o["LeadSource"] = "Partner"
[o for o in opps[:80] if o["Type"] == "New Business"][5]["Type"] = ""
for o in opps[80:]:
    o["IsDeleted"] = True
live_opps = [o for o in opps if not o["IsDeleted"]]

# OpportunityContactRole: ~100 rows, one primary per opportunity with roles.
ROLES = ["Economic Buyer", "Technical Buyer", "Decision Maker", "Evaluator", "Influencer", "Business User"]
by_account = defaultdict(list)
for c in live_contacts:
    by_account[c["AccountId"]].append(c)
ocrs = []
for o in live_opps:
    if len(ocrs) >= 100 or rng.random() < 0.35:
        continue
    pool = by_account[o["AccountId"]]
    k = min(len(pool), rng.choice([1, 2, 2, 3, 3, 4]))
    for j, c in enumerate(rng.sample(pool, k)):
        ocrs.append(dict(
            Id=sf_id("00K", 5000 + len(ocrs)), OpportunityId=o["Id"], ContactId=c["Id"],
            Role=rng.choice(ROLES[:3]) if j == 0 else rng.choice(ROLES), IsPrimary=j == 0,
            CreatedDate=o["CreatedDate"] + timedelta(hours=rng.randint(1, 200)), IsDeleted=False,
        ))
for r in [r for r in ocrs if not r["IsPrimary"]][3:5]:
    r["Role"] = "Legal Counsel"
for r in ocrs:
    r["CreatedDate"] = clamp(r["CreatedDate"])

# Campaigns
CAMPAIGNS = [
    ("Q1 2025 Newsletter Push", "Email", date(2025, 2, 3), 20, "1500.00"),
    ("Forecasting Webinar", "Webinar", date(2025, 3, 18), 1, "2400.00"),
    ("SaaStr Annual 2025", "Conference", date(2025, 9, 9), 3, "38500.00"),
    ("Google Ads - Revenue Ops", "Advertisement", date(2025, 5, 1), 60, "12750.25"),
    ("Customer Expansion Nurture", "Email", date(2025, 10, 6), 45, "900.00"),
    ("Pipeline Reviews Webinar", "Webinar", date(2026, 1, 21), 1, "3100.00"),
    ("Dreamforce 2026", "Conference", date(2026, 9, 15), 3, "52000.00"),
    ("LinkedIn + Search Q2 2026", "Advertisement", date(2026, 4, 1), 75, "18200.50"),
]
campaigns = []
for i, (name, typ, start, length, cost) in enumerate(CAMPAIGNS):
    campaigns.append(dict(
        Id=sf_id("701", 6000 + i), Name=name, Type=typ, Status="Completed" if start < date(2026, 9, 1) else "In Progress",
        StartDate=start, EndDate=start + timedelta(days=length), ActualCost=cost,
        CreatedDate=rand_dt(datetime.combine(start, datetime.min.time()) - timedelta(days=40),
                            datetime.combine(start, datetime.min.time()) - timedelta(days=5)),
        IsDeleted=False,
    ))

# CampaignMember: ~200 rows; contacts, converted leads (LeadId and ContactId), open leads (LeadId only)
lead_of_contact = {l["ConvertedContactId"]: l for l in leads if l["IsConverted"]}
members = []
for ci, camp in enumerate(campaigns):
    seen = set()
    for _ in range(25):
        kind = rng.choices(["contact", "converted", "open_lead"], [0.55, 0.2, 0.25])[0]
        if kind == "open_lead":
            who = rng.choice(open_leads)
            contact_id, lead_id = None, who["Id"]
        else:
            c = rng.choice(live_contacts if kind == "contact" else [c for c in live_contacts if c["Id"] in lead_of_contact])
            contact_id = c["Id"]
            lead_id = lead_of_contact[c["Id"]]["Id"] if c["Id"] in lead_of_contact else None
        key = contact_id or lead_id
        if key in seen:
            continue
        seen.add(key)
        start = datetime.combine(camp["StartDate"], datetime.min.time())
        created = rand_dt(start - timedelta(days=14), start)
        responded = rng.random() < 0.7
        first = day_after(created, 0, (camp["EndDate"] - camp["StartDate"]).days + 3) if responded else None
        members.append(dict(
            Id=sf_id("00v", 7000 + len(members)), CampaignId=camp["Id"], ContactId=contact_id, LeadId=lead_id,
            Status="Responded" if responded else "Sent", HasResponded=responded, FirstRespondedDate=first,
            CreatedDate=created, IsDeleted=False,
        ))
# two responders without FirstRespondedDate (the touch falls back to CreatedDate)
for m in [m for m in members if m["HasResponded"] and m["ContactId"]][10:12]:
    m["FirstRespondedDate"] = None

# Tasks: ~150; some on open leads (no contact: no touch), some not started.
tasks = []
for i in range(150):
    on_lead = rng.random() < 0.12
    who = rng.choice(open_leads) if on_lead else rng.choice(live_contacts)
    sub = rng.choice(["Call", "Email", "Email"])
    created = rand_dt(who["CreatedDate"] + timedelta(hours=2), who["CreatedDate"] + timedelta(days=200))
    completed = rng.random() < 0.8
    act = day_after(created, 0, 10)
    cdt = None
    if completed and rng.random() < 0.9:
        cdt = clamp(datetime.combine(act, datetime.min.time()) + timedelta(hours=rng.randint(8, 18), minutes=rng.randint(0, 59)))
        if cdt < created:
            cdt = created + timedelta(minutes=rng.randint(5, 90))
            cdt = clamp(cdt)
    tasks.append(dict(
        Id=sf_id("00T", 8000 + i), WhoId=who["Id"], Subject=f"{sub}: follow up", TaskSubtype=sub, Type=sub,
        Status="Completed" if completed else "Not Started", ActivityDate=act, CompletedDateTime=cdt,
        CreatedDate=created, IsDeleted=False,
    ))

# Events: 40 meetings; two on open leads.
events = []
for i in range(40):
    who = rng.choice(open_leads) if i in (7, 23) else rng.choice(live_contacts)
    created = rand_dt(who["CreatedDate"] + timedelta(hours=1), who["CreatedDate"] + timedelta(days=180))
    start = rand_dt(created + timedelta(days=1), created + timedelta(days=21))
    start = start.replace(minute=rng.choice([0, 30]), second=0)
    start = clamp(start)
    events.append(dict(
        Id=sf_id("00U", 9000 + i), WhoId=who["Id"], Subject=rng.choice(["Discovery call", "Demo", "QBR", "Pricing review"]),
        Type="Meeting", StartDateTime=start, EndDateTime=start + timedelta(minutes=rng.choice([30, 45, 60])),
        ActivityDateTime=start, ActivityDate=start.date(), CreatedDate=created, IsDeleted=False,
    ))

# --------------------------------------------------------------------------- emitting
OBJECTS = [
    # (API file, synced file, columns in API order, records)
    ("Account", "sf_account", ["Id", "Name", "Website", "Industry", "NumberOfEmployees", "BillingCountry",
                               "AnnualRevenue", "CreatedDate", "IsDeleted"], accounts),
    ("Contact", "sf_contact", ["Id", "AccountId", "FirstName", "LastName", "Title", "Email", "CreatedDate",
                               "MQL_Date__c", "IsDeleted"], contacts),
    ("Lead", "sf_lead", ["Id", "FirstName", "LastName", "Company", "Email", "Status", "LeadSource", "CreatedDate",
                         "IsConverted", "ConvertedContactId", "ConvertedAccountId", "ConvertedDate", "MQL_Date__c",
                         "IsDeleted"], leads),
    ("Opportunity", "sf_opportunity_data", ["Id", "AccountId", "Name", "StageName", "IsClosed", "IsWon", "CloseDate",
                                            "Amount", "Type", "LeadSource", "CreatedDate", "IsDeleted"], opps),
    ("OpportunityContactRole", "sf_opportunity_contact_role", ["Id", "OpportunityId", "ContactId", "Role", "IsPrimary",
                                                               "CreatedDate", "IsDeleted"], ocrs),
    ("Campaign", "sf_campaign", ["Id", "Name", "Type", "Status", "StartDate", "EndDate", "ActualCost", "CreatedDate",
                                 "IsDeleted"], campaigns),
    ("CampaignMember", "sf_campaign_member", ["Id", "CampaignId", "ContactId", "LeadId", "Status", "HasResponded",
                                              "FirstRespondedDate", "CreatedDate", "IsDeleted"], members),
    ("Task", "sf_task", ["Id", "WhoId", "Subject", "TaskSubtype", "Type", "Status", "ActivityDate",
                         "CompletedDateTime", "CreatedDate", "IsDeleted"], tasks),
    ("Event", "sf_event", ["Id", "WhoId", "Subject", "Type", "StartDateTime", "EndDateTime", "ActivityDateTime",
                           "ActivityDate", "CreatedDate", "IsDeleted"], events),
]

# warehouse-connector column names (Fivetran-style snake_case of the API name)
SYNCED_NAME = {
    "Id": "id", "Name": "name", "Website": "website", "Industry": "industry", "NumberOfEmployees": "number_of_employees",
    "BillingCountry": "billing_country", "AnnualRevenue": "annual_revenue", "CreatedDate": "created_date",
    "IsDeleted": "is_deleted", "AccountId": "account_id", "FirstName": "first_name", "LastName": "last_name",
    "Title": "title", "Email": "email", "MQL_Date__c": "mql_date_c", "Company": "company", "Status": "status",
    "LeadSource": "lead_source", "IsConverted": "is_converted", "ConvertedContactId": "converted_contact_id",
    "ConvertedAccountId": "converted_account_id", "ConvertedDate": "converted_date", "StageName": "stage_name",
    "IsClosed": "is_closed", "IsWon": "is_won", "CloseDate": "close_date", "Amount": "amount", "Type": "type",
    "OpportunityId": "opportunity_id", "ContactId": "contact_id", "Role": "role", "IsPrimary": "is_primary",
    "StartDate": "start_date", "EndDate": "end_date", "ActualCost": "actual_cost", "CampaignId": "campaign_id",
    "LeadId": "lead_id", "HasResponded": "has_responded", "FirstRespondedDate": "first_responded_date",
    "WhoId": "who_id", "Subject": "subject", "TaskSubtype": "task_subtype", "ActivityDate": "activity_date",
    "CompletedDateTime": "completed_date_time", "StartDateTime": "start_date_time", "EndDateTime": "end_date_time",
    "ActivityDateTime": "activity_date_time",
}


def api_text(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return f"{v:.2f}"
    return str(v)


def synced_text(v):
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return api_text(v)


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def synced_at(i):
    return SYNCED_AT + timedelta(seconds=i * 7, microseconds=(i * 123457) % 1000000)


def emit_salesforce():
    api_dir = os.path.join(ROOT, "salesforce_api")
    syn_dir = os.path.join(ROOT, "salesforce_synced")
    for d in (api_dir, syn_dir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    for api_file, syn_file, cols, records in OBJECTS:
        write_csv(os.path.join(api_dir, api_file + ".csv"), cols,
                  [[api_text(r.get(c)) for c in cols] for r in records])
        # connector spelling: soft-deleted rows have is_deleted false and _fivetran_deleted true
        syn_cols = [SYNCED_NAME[c] for c in cols] + ["_fivetran_synced", "_fivetran_deleted"]
        syn_rows = []
        for i, r in enumerate(records):
            row = {SYNCED_NAME[c]: (False if c == "IsDeleted" else r.get(c)) for c in cols}
            row["_fivetran_synced"] = synced_at(i)
            row["_fivetran_deleted"] = bool(r["IsDeleted"])
            syn_rows.append(row)
        if syn_file == "sf_opportunity_data":
            types = {
                "amount": pa.float64(), "created_date": pa.timestamp("us", tz="UTC"), "close_date": pa.date32(),
                "_fivetran_synced": pa.timestamp("us", tz="UTC"), "is_closed": pa.bool_(), "is_won": pa.bool_(),
                "is_deleted": pa.bool_(), "_fivetran_deleted": pa.bool_(),
            }
            arrays, fields = [], []
            for c in syn_cols:
                t = types.get(c, pa.string())
                vals = [row[c] for row in syn_rows]
                if t == pa.float64():
                    vals = [None if v is None else float(v) for v in vals]
                elif t == pa.string():
                    vals = [None if v in (None, "") else str(v) for v in vals]
                arrays.append(pa.array(vals, type=t))
                fields.append(pa.field(c, t))
            pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)),
                           os.path.join(syn_dir, syn_file + ".parquet"))
        else:
            write_csv(os.path.join(syn_dir, syn_file + ".csv"), syn_cols,
                      [[synced_text(row[c]) for c in syn_cols] for row in syn_rows])


# --------------------------------------------------------------------------- Stripe
STRIPE_ACCOUNTS = [
    ("acc_001", "Acme Analytics", "acme-analytics.com"), ("acc_002", "Globex Corporation", "globex.com"),
    ("acc_003", "Initech", "initech.io"), ("acc_004", "Umbrella Health", "umbrellahealth.com"),
    ("acc_005", "Hooli", "hooli.xyz"), ("acc_006", "Vandelay Industries", "vandelay.com"),
    ("acc_007", "Stark Logistics", "starklogistics.com"), ("acc_008", "Wayne Enterprises", "wayne-ent.com"),
    ("acc_009", "Pied Piper", "piedpiper.com"), ("acc_010", "Tyrell Systems", "tyrell.ai"),
    ("acc_011", "Aperture Labs", "aperturelabs.com"), ("acc_012", "Blue Sun Retail", "bluesun.shop"),
    ("acc_013", "Nakatomi Trading", "nakatomi.jp"), ("acc_014", "Bluth Company", "bluthcompany.com"),
    ("acc_015", "Encom", "encom.com"), ("acc_016", "Nordlicht AB", "nordlicht.se"),
    ("acc_017", "Massive Dynamic", "massivedynamic.com"), ("acc_018", "Wonka Confections", "wonka.com"),
    ("acc_019", "Duff Brewing", "duff.beer"), ("acc_020", "Zorg Industries", "zorg.fr"),
    ("acc_021", "Cogswell Cogs", "cogswellcogs.com"), ("acc_022", "Spacely Sprockets", "spacelysprockets.com"),
]

B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
srng = random.Random(4242)


def stripe_id(prefix, k):
    return prefix + "".join(srng.choice(B36) for _ in range(k))


PLANS = {  # plan -> (interval, unit amount)
    "Starter Monthly": ("month", "49.00"), "Growth Monthly": ("month", "199.00"),
    "Scale Monthly": ("month", "799.00"), "Starter Annual": ("year", "490.00"),
    "Growth Annual": ("year", "1990.00"), "Scale Annual": ("year", "7990.00"),
    "Seats Monthly": ("month", "29.50"),
}

# (customer key, account link, email, plan, qty, status, start, canceled_at, ended_at)
#   link "meta": account_id (metadata) set; "email": empty metadata, e-mail domain matches an account;
#   None: matches nothing.
SUBS = [
    ("c01", "meta", "acc_001", "finance@acme-analytics.com", "Growth Monthly", 3, "active", "2025-02-10 09:00", None, None),
    ("c02", "meta", "acc_002", "ap@globex.com", "Scale Annual", 1, "active", "2025-03-01 14:30", None, None),
    ("c03", "meta", "acc_003", "billing@initech.io", "Starter Monthly", 5, "active", "2025-03-17 11:05", None, None),
    ("c04", "meta", "acc_004", "it@umbrellahealth.com", "Growth Annual", 7, "active", "2025-04-02 08:45", None, None),
    ("c05", "meta", "acc_005", "ops@hooli.xyz", "Seats Monthly", 10, "past_due", "2025-04-20 16:20", None, None),
    ("c06", "meta", "acc_006", "art@vandelay.com", "Starter Annual", 1, "canceled", "2025-01-15 10:00", "2025-09-30 12:00", "2026-01-15 10:00"),
    ("c07", "meta", "acc_007", "payables@starklogistics.com", "Scale Monthly", 2, "active", "2025-05-06 13:10", None, None),
    ("c08", "meta", "acc_008", "lucius@wayne-ent.com", "Growth Monthly", 1, "canceled", "2025-02-01 09:30", "2025-07-20 18:02", "2025-08-01 09:30"),
    ("c09", "meta", "acc_009", "richard@piedpiper.com", "Starter Monthly", 2, "canceled", "2025-03-03 07:55", "2025-06-11 10:41", "2025-06-11 10:41"),
    ("c09", "meta", "acc_009", "richard@piedpiper.com", "Growth Monthly", 4, "active", "2025-11-04 15:00", None, None),
    ("c10", "meta", "acc_010", "eldon@tyrell.ai", "Scale Annual", 3, "active", "2025-06-18 12:00", None, None),
    ("c11", "meta", "acc_011", "glados@aperturelabs.com", "Growth Monthly", 6, "trialing", "2026-10-20 09:00", None, None),
    ("c12", "meta", "acc_012", "buyer@bluesun.shop", "Starter Monthly", 1, "incomplete_expired", "2026-03-05 17:45", None, None),
    ("c13", "meta", "acc_013", "takagi@nakatomi.jp", "Seats Monthly", 8, "active", "2025-07-01 00:30", None, None),
    ("c14", "meta", "acc_014", "gob@bluthcompany.com", "Starter Annual", 2, "canceled", "2025-05-12 10:10", "2026-02-01 08:00", None),
    ("c15", "meta", "acc_015", "flynn@encom.com", "Growth Annual", 1, "active", "2025-08-08 08:08", "2026-10-02 11:00", None),
    ("c16", "meta", "acc_016", "ekonomi@nordlicht.se", "Starter Monthly", 9, "active", "2025-09-15 06:40", None, None),
    ("c17", "meta", "acc_017", "nina@massivedynamic.com", "Scale Monthly", 1, "active", "2025-10-01 10:00", None, None),
    ("c17", "meta", "acc_017", "nina@massivedynamic.com", "Seats Monthly", 4, "active", "2026-02-01 10:00", None, None),
    ("c18", "meta", "acc_018", "willy@wonka.com", "Growth Annual", 2, "canceled", "2025-04-01 09:00", "2026-03-28 16:00", "2026-04-01 09:00"),
    ("c19", "email", None, "Billing@Duff.BEER", "Growth Monthly", 2, "active", "2025-05-20 19:15", None, None),
    ("c20", "email", None, "finance@zorg.fr", "Scale Annual", 1, "active", "2025-12-01 09:00", None, None),
    ("c21", "email", None, "spacely@spacelysprockets.com", "Starter Monthly", 3, "canceled", "2025-06-02 11:30", "2026-01-10 09:12", "2026-01-10 09:12"),
    ("c22", "email", None, "accounts@cogswellcogs.com", "Seats Monthly", 7, "active", "2026-01-12 13:00", None, None),
    ("c23", "email", None, "ap@acme-analytics.com", "Starter Annual", 4, "active", "2026-04-01 08:00", None, None),
    ("c24", "meta", "acc_020", "zorg@zorg.fr", "Growth Monthly", 1, "active", "2026-06-15 10:30", None, None),
    ("c25", "meta", "acc_021", "cogs@cogswellcogs.com", "Scale Annual", 2, "active", "2026-08-01 09:00", None, None),
    ("c26", "meta", "acc_022", "george@spacelysprockets.com", "Seats Monthly", 1, "canceled", "2026-02-10 10:00", "2026-05-03 12:00", "2026-05-10 10:00"),
    ("c27", None, None, "founder@quietfox.dev", "Starter Monthly", 1, "active", "2025-10-10 10:10", None, None),
    ("c27", None, None, "founder@quietfox.dev", "Seats Monthly", 2, "canceled", "2026-01-05 12:00", "2026-06-30 23:00", "2026-06-30 23:00"),
]

STRIPE_HEADER = ["id", "Customer ID", "Customer Email", "Status", "Plan", "Quantity", "Currency", "Interval", "Amount",
                 "Created (UTC)", "Start (UTC)", "Current Period Start (UTC)", "Current Period End (UTC)",
                 "Canceled At (UTC)", "Ended At (UTC)", "account_id (metadata)"]


def add_months(d, months):
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    day = min(d.day, [31, 29 if y % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1])
    return d.replace(year=y, month=m, day=day)


def stripe_rows():
    customers = {}
    out = []
    as_of = datetime(2026, 10, 31, 12, 0)
    for key, link, acc, email, plan, qty, status, start, canceled, ended in SUBS:
        if key not in customers:
            customers[key] = stripe_id("cus_", 14)
        interval, amount = PLANS[plan]
        start_dt = datetime.strptime(start, "%Y-%m-%d %H:%M")
        step = 12 if interval == "year" else 1
        # current period: the one containing the end (or now)
        stop = datetime.strptime(ended, "%Y-%m-%d %H:%M") if ended else (
            datetime.strptime(canceled, "%Y-%m-%d %H:%M") if canceled and status == "canceled" else as_of)
        if status in ("trialing",):
            ps, pe = start_dt, start_dt + timedelta(days=14)
        elif status == "incomplete_expired":
            ps, pe = start_dt, add_months(start_dt, step)
        else:
            ps = start_dt
            while add_months(ps, step) <= stop:
                ps = add_months(ps, step)
            pe = add_months(ps, step)
        fmt = lambda d: d.strftime("%Y-%m-%d %H:%M") if d else ""
        ended_txt = ended or ""
        if status == "incomplete_expired":
            ended_txt = fmt(start_dt + timedelta(hours=23))
        out.append(dict(
            id="sub_1Q" + "".join(srng.choice(B36) for _ in range(22)), customer_id=customers[key], email=email,
            status=status, plan=plan, qty=qty, interval=interval, amount=amount,
            created=fmt(start_dt - timedelta(minutes=srng.randint(1, 30))), start=start,
            cps=fmt(ps), cpe=fmt(pe), canceled=canceled or "", ended=ended_txt,
            meta=acc if link == "meta" else "", link=link, account=acc,
        ))
    return out


def emit_stripe(subs):
    d = os.path.join(ROOT, "stripe")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    write_csv(os.path.join(d, "stripe_subscriptions.csv"), STRIPE_HEADER, [
        [s["id"], s["customer_id"], s["email"], s["status"], s["plan"], s["qty"], "usd", s["interval"], s["amount"],
         s["created"], s["start"], s["cps"], s["cpe"], s["canceled"], s["ended"], s["meta"]] for s in subs])
    write_csv(os.path.join(d, "accounts.csv"), ["account_id", "name", "domain"], [list(a) for a in STRIPE_ACCOUNTS])
    write_csv(os.path.join(d, "contacts.csv"), ["contact_id", "account_id"],
              [[f"con_{i:03d}", a[0]] for i, a in enumerate(STRIPE_ACCOUNTS[:10], 1)])
    write_csv(os.path.join(d, "opportunities.csv"),
              ["opportunity_id", "account_id", "created_at", "closed_at", "status", "amount"], [
                  ["opp_001", "acc_001", "2025-01-10 09:00:00", "2025-02-05 17:00:00", "won", "7164.00"],
                  ["opp_002", "acc_002", "2025-01-20 10:00:00", "2025-02-27 12:00:00", "won", "7990.00"],
                  ["opp_003", "acc_004", "2025-02-11 15:30:00", "2025-03-30 11:00:00", "won", "13930.00"],
                  ["opp_004", "acc_011", "2026-08-01 09:00:00", "", "open", "14328.00"],
                  ["opp_005", "acc_012", "2026-01-15 09:00:00", "2026-02-20 09:00:00", "lost", "588.00"],
              ])


# --------------------------------------------------------------------------- expectations
def cents(x):
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected_salesforce():
    """Canonical-table facts, from the pack definitions, computed on the Python records."""
    acc = [a for a in accounts if not a["IsDeleted"]]
    con = [c for c in contacts if not c["IsDeleted"]]
    con_ids = {c["Id"] for c in con}
    lds = [l for l in leads if not l["IsDeleted"]]
    opp = [o for o in opps if not o["IsDeleted"]]
    roles = [r for r in ocrs if not r["IsDeleted"]]
    camps = [c for c in campaigns if not c["IsDeleted"]]
    mems = [m for m in members if not m["IsDeleted"]]
    tks = [t for t in tasks if not t["IsDeleted"]]
    evs = [e for e in events if not e["IsDeleted"]]
    lead_by_id = {l["Id"]: l for l in lds}

    # lifecycle: converted leads (to an existing contact): lead, mql when set, sql at ConvertedDate;
    # contacts not converted from a lead: lead at CreatedDate, mql when set
    conv = [l for l in lds if l["IsConverted"] and l["ConvertedContactId"] in con_ids]
    conv_targets = {l["ConvertedContactId"] for l in lds if l["IsConverted"] and l["ConvertedContactId"]}
    direct = [c for c in con if c["Id"] not in conv_targets]
    lc = Counter()
    for l in conv:
        lc["lead"] += 1
        lc["mql"] += l["MQL_Date__c"] is not None
        lc["sql"] += l["ConvertedDate"] is not None
    for c in direct:
        lc["lead"] += 1
        lc["mql"] += c["MQL_Date__c"] is not None

    status = lambda o: "won" if o["IsWon"] else ("lost" if o["IsClosed"] else "open")
    st = Counter(status(o) for o in opp)
    # as of the end of a month: a deal closed after it is still open then
    month_end = date(2026, 9, 30)
    st_asof = Counter(status(o) if o["CloseDate"] <= month_end else "open" for o in opp)
    won_sum = sum((o["Amount"] for o in opp if status(o) == "won"), Decimal(0))
    tmap = {"New Business": "new_business", "Existing Customer - Upgrade": "expansion", "Renewal": "renewal"}
    types = Counter(tmap.get(o["Type"], "new_business") for o in opp)
    prim = {r["OpportunityId"] for r in roles if r["IsPrimary"]}

    touch = Counter()
    for m in mems:
        lead = lead_by_id.get(m["LeadId"]) if m["LeadId"] else None
        cid = m["ContactId"] or (lead["ConvertedContactId"] if lead else None)
        if m["HasResponded"] and cid:
            touch["campaign_response"] += 1
    for t in tks:
        if t["WhoId"] in con_ids and t["Status"] in ("Completed",):
            touch["task"] += 1
    for e in evs:
        if e["WhoId"] in con_ids:
            touch["meeting"] += 1
    task_by = Counter((t["TaskSubtype"], t["Status"], t["WhoId"][:3]) for t in tks)

    return dict(
        rows_read={f: len(r) for f, _, _, r in OBJECTS},
        deleted={f: sum(1 for x in r if x["IsDeleted"]) for f, _, _, r in OBJECTS},
        tables=dict(accounts=len(acc), contacts=len(con), lifecycle=sum(lc.values()), opportunities=len(opp),
                    opportunity_contacts=len(roles), campaigns=len(camps), touches=sum(touch.values()),
                    spend=sum(1 for c in camps if c["ActualCost"] and c["StartDate"]), subscriptions=None),
        lifecycle=lc, status=st, status_asof=st_asof, won_sum=won_sum, types=types, primary=len(prim),
        touch=touch, task_by=task_by,
        spend_sum=sum(Decimal(c["ActualCost"]) for c in camps),
        converted=len(conv), unconverted=sum(1 for l in lds if not l["IsConverted"]),
        direct=len(direct),
        unmapped=[("opportunity_type", "opportunity.type", "Partner Deal",
                   sum(1 for o in opp if o["Type"] == "Partner Deal"), "new_business"),
                  ("contact_role", "opportunity_contact_role.role", "Legal Counsel",
                   sum(1 for r in roles if r["Role"] == "Legal Counsel"), "unknown")],
        domains=[(a["Website"], domain_of(a["Website"])) for a in acc],
        members_lead_only=sum(1 for m in mems if m["LeadId"] and not m["ContactId"]),
        members_not_responded=sum(1 for m in mems if not m["HasResponded"]),
    )


REVENUE = {"active", "past_due", "unpaid", "canceled"}


def expected_stripe(subs):
    by_domain = {dom.lower(): aid for aid, _, dom in STRIPE_ACCOUNTS}
    rows = []
    for s in subs:
        revenue = s["status"] in REVENUE
        account = s["meta"] or by_domain.get(s["email"].split("@", 1)[1].lower()) or "unmatched"
        end = s["ended"] or (s["canceled"] or s["cpe"] if s["status"] == "canceled" else "")
        mrr = Decimal(s["amount"]) * s["qty"]
        if s["interval"] == "year":
            mrr = mrr / 12
        rows.append(dict(id=s["id"], customer=s["customer_id"], status=s["status"], revenue=revenue,
                         interval=s["interval"], amount=s["amount"], qty=s["qty"],
                         mrr=cents(mrr), start=s["start"][:10], end=end[:10], account=account, link=s["link"]))
    return rows


def write_expected(sf, st_rows):
    L = []
    p = L.append
    p("# Source-pack fixtures: expected facts")
    p("")
    p("Generated by `scripts/make_source_fixtures.py` (do not edit by hand; re-run the script).")
    p("Every number below is computed in that script from the generated records and the")
    p("definitions written in the pack SQL comments (`sources/salesforce/*.sql`,")
    p("`sources/stripe/subscriptions.sql`), not by running revalign or its SQL.")
    p("")
    p("## salesforce_api and salesforce_synced (the same org)")
    p("")
    p("`salesforce_api/` has API-name headers (`Account.csv`, `IsWon`, `2025-03-04T10:15:00.000Z`);")
    p("`salesforce_synced/` has the same records in connector spelling (`sf_account.csv`, `is_won`,")
    p("`2025-03-04 10:15:00`, `_fivetran_synced`, `_fivetran_deleted`; `sf_opportunity_data.parquet`")
    p("with bool / float64 / timestamp[us, UTC] / date32 columns). Both folders must give the same")
    p("canonical tables and the same numbers below, with `--source salesforce`.")
    p("")
    p("### Objects read (rows read include soft-deleted rows)")
    p("")
    p("| object (API file / synced file) | rows read | soft-deleted dropped | rows kept |")
    p("|---|---:|---:|---:|")
    for f, s, _, _ in OBJECTS:
        p(f"| {f}.csv / {s}.{'parquet' if s == 'sf_opportunity_data' else 'csv'} | {sf['rows_read'][f]} | "
          f"{sf['deleted'][f]} | {sf['rows_read'][f] - sf['deleted'][f]} |")
    p("")
    p("Soft-deleted: in `salesforce_api/` by `IsDeleted` = true; in `salesforce_synced/` the same rows")
    p("have `is_deleted` false and `_fivetran_deleted` true. The deleted Contact is referenced by")
    p("nothing; the deleted Opportunities have no contact roles.")
    p("")
    p("### Canonical tables (rows)")
    p("")
    p("| table | rows |")
    p("|---|---:|")
    for t, v in sf["tables"].items():
        p(f"| {t} | {'absent (no Stripe export)' if v is None else v} |")
    p("")
    p("These are rows produced by the pack; every one of them is also expected to load (0 rejected).")
    p("")
    p("### Details")
    p("")
    lc = sf["lifecycle"]
    p(f"- lifecycle = {sum(lc.values())}: lead {lc['lead']}, mql {lc['mql']}, sql {lc['sql']}. "
      f"{sf['converted']} converted leads (each to its own live contact: lead + sql, + mql when "
      f"`MQL_Date__c` is set) and {sf['direct']} contacts not converted from a lead (lead, + mql when "
      f"`MQL_Date__c` is set). {sf['unconverted']} unconverted leads give no rows.")
    s = sf["status"]
    p(f"- opportunities: won {s['won']}, lost {s['lost']}, open {s['open']} "
      f"(total {sum(s.values())}); sum of won amount = {sf['won_sum']:.2f}.")
    a = sf["status_asof"]
    p(f"  As of 2026-09 (the default report month `validate` picks: data through 2026-10-16), deals closed")
    p(f"  in 2026-10 are still open: won {a['won']}, lost {a['lost']}, open {a['open']}.")
    t = sf["types"]
    p(f"- opportunity type: new_business {t['new_business']} (includes the 3 `Partner Deal` rows and 1 "
      f"row with an empty Type), expansion {t['expansion']}, renewal {t['renewal']}.")
    p(f"- opportunities with a primary contact (IsPrimary): {sf['primary']}.")
    tc = sf["touch"]
    p(f"- touches = {sum(tc.values())}: campaign responses {tc['campaign_response']} (marketing), "
      f"completed tasks on contacts {tc['task']} (sales), events on contacts {tc['meeting']} (sales meetings).")
    p(f"  Campaign members: {sf['rows_read']['CampaignMember']}, of which {sf['members_not_responded']} did "
      f"not respond and {sf['members_lead_only']} are LeadId-only members of unconverted leads (no touch);")
    p("  2 responders have no FirstRespondedDate (touch at the member's CreatedDate).")
    tb = sf["task_by"]
    on_leads = sum(v for (sub, stt, pre), v in tb.items() if pre == "00Q")
    not_started = sum(v for (sub, stt, pre), v in tb.items() if stt != "Completed")
    p(f"  Tasks: {sf['rows_read']['Task']}, of which {not_started} `Not Started` and {on_leads} on leads "
      f"(WhoId 00Q...), not touches; events: {sf['rows_read']['Event']}, of which 2 on leads.")
    p(f"- spend = {sf['tables']['spend']} rows (one per campaign, ActualCost in its start month), "
      f"total {sf['spend_sum']:.2f}.")
    p("")
    p("### Unmapped picklist values (reported once each, with counts)")
    p("")
    p("| map | column | value | rows | read as |")
    p("|---|---|---|---:|---|")
    for m, col, v, k, became in sf["unmapped"]:
        p(f"| {m} | {col} | {v} | {k} | {became} |")
    p("")
    p("No other value is unmapped (LeadSource, Campaign.Type and TaskSubtype only use mapped values;")
    p("empty values are missing, not unmapped).")
    p("")
    p("### Account domains (Website without scheme, www., path, port or query, lower case)")
    p("")
    p("| Website | domain |")
    p("|---|---|")
    for w, d in sf["domains"]:
        p(f"| {w or '(empty)'} | {d or '(missing)'} |")
    p("")
    p("## stripe")
    p("")
    p("`stripe/stripe_subscriptions.csv` (Dashboard export headers) beside canonical `accounts.csv`")
    p(f"({len(STRIPE_ACCOUNTS)} rows), `contacts.csv` (10) and `opportunities.csv` (5); run with `--source stripe`.")
    p("")
    rev = [r for r in st_rows if r["revenue"]]
    matched = [r for r in rev if r["account"] != "unmatched"]
    p(f"- stripe_subscriptions rows read: {len(st_rows)}, soft-deleted 0.")
    p(f"- canonical `subscriptions` rows produced: {len(rev)} (the `trialing` and `incomplete_expired` rows are")
    p(f"  not revenue); {len(matched)} load, {len(rev) - len(matched)} are rejected (`missing value` account_id:")
    p("  one customer, two subscriptions, no metadata and an e-mail domain no account has).")
    p(f"- linked by `account_id (metadata)`: {sum(1 for r in rev if r['link'] == 'meta')}; by e-mail domain: "
      f"{sum(1 for r in rev if r['link'] == 'email')}; unmatched: {sum(1 for r in rev if r['link'] is None)}.")
    p(f"- total mrr of the {len(matched)} loaded rows: {sum(r['mrr'] for r in matched):.2f}; of all "
      f"{len(rev)} produced rows: {sum(r['mrr'] for r in rev):.2f}.")
    p("- reactivation: Pied Piper (acc_009) canceled 2025-06-11 and started again 2025-11-04.")
    p("- Encom (acc_015) is `active` with a Canceled At (cancel at period end): end_date empty by the")
    p("  definition (only a `canceled` subscription falls back to Canceled At / Current Period End).")
    p("- Bluth (acc_014) is `canceled` without Ended At: end_date = Canceled At.")
    p("")
    p("| subscription id | status | interval | amount x qty | mrr | start_date | end_date | account_id |")
    p("|---|---|---|---|---:|---|---|---|")
    for r in st_rows:
        if r["revenue"]:
            p(f"| {r['id']} | {r['status']} | {r['interval']} | {r['amount']} x {r['qty']} | {r['mrr']:.2f} | "
              f"{r['start']} | {r['end'] or '(active)'} | {r['account']} |")
        else:
            p(f"| {r['id']} | {r['status']} | {r['interval']} | {r['amount']} x {r['qty']} | not loaded | "
              f"{r['start']} | | (not revenue) |")
    p("")
    with open(os.path.join(ROOT, "EXPECTED.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(L))


def main():
    os.makedirs(ROOT, exist_ok=True)
    # sanity of the generated org
    ids = [r["Id"] for _, _, _, rs in OBJECTS for r in rs]
    assert len(ids) == len(set(ids)) and all(len(i) == 18 for i in ids)
    assert sum(1 for o in opps if o["Type"] == "Partner Deal") == 3
    assert sum(1 for r in ocrs if r["Role"] == "Legal Counsel") == 2
    prim = Counter(r["OpportunityId"] for r in ocrs if r["IsPrimary"])
    assert all(v == 1 for v in prim.values()) and set(prim) == {r["OpportunityId"] for r in ocrs}
    assert len({(r["OpportunityId"], r["ContactId"]) for r in ocrs}) == len(ocrs)
    for o in opps:
        assert o["CloseDate"] > o["CreatedDate"].date() or not o["IsClosed"], o
    emit_salesforce()
    subs = stripe_rows()
    emit_stripe(subs)
    write_expected(expected_salesforce(), expected_stripe(subs))


if __name__ == "__main__":
    main()
