#!/usr/bin/env python3
"""Headline numbers of the source-pack fixtures, computed from the export files and the
packs' mapping.toml (not by revalign): pinned in tests/sources.rs,
a_full_run_on_each_pack_gives_the_exports_headline_numbers. Run from the repo root."""
import csv, tomllib
from decimal import Decimal as D
def rows(p): return list(csv.DictReader(open(p, encoding='utf-8-sig')))
T = lambda v: v.strip().lower() in ('true','1','t','yes','y')
# Salesforce, report month 2026-09
sf = tomllib.load(open('sources/salesforce/mapping.toml','rb'))
tmap = sf['maps']['opportunity_type']['values']; tother = sf['maps']['opportunity_type']['otherwise']
opps = [o for o in rows('tests/fixtures/sources/salesforce_api/Opportunity.csv') if not T(o['IsDeleted'])]
b = sum(D(o['Amount']) for o in opps if T(o['IsWon']) and o['CloseDate'].startswith('2026-09'))
pc = sum(D(o['Amount']) for o in opps if o['CreatedDate'].startswith('2026-09') and tmap.get(o['Type'], tother) == 'new_business')
print('salesforce 2026-09 bookings', b, 'pipeline_created', pc)
# HubSpot UI, report month?
hs = tomllib.load(open('sources/hubspot/mapping.toml','rb'))
deals = rows('tests/fixtures/sources/hubspot_ui/hubspot_deals.csv')
stage = hs['maps']['deal_stage']['values']; dtype = hs['maps']['deal_type']['values']
for m in ['2026-03','2026-05']:
    b = sum(D(d['Amount']) for d in deals if stage.get(d['Deal Stage'])=='won' and d['Close Date'].startswith(m))
    pc = sum(D(d['Amount']) for d in deals if d['Create Date'].startswith(m) and dtype.get(d['Deal Type'], hs['maps']['deal_type']['otherwise'])=='new_business')
    print('hubspot', m, 'bookings', b, 'pipeline_created', pc)
