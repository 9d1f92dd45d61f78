//! The canonical input tables, in one place.
//!
//! Every fact about an input table — its columns, their types, which are required,
//! enum domains and defaults, the primary key and the foreign keys — is written here
//! once. The loader, the validator, the generator, the docs test and `validate` all
//! read these specs; no other module types a column list of an input table.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Decimal type used for every money column: one currency, exact to the cent.
pub const MONEY_PRECISION: u8 = 18;
pub const MONEY_SCALE: i8 = 2;
/// Exchange rates (`fx_rates.rate`): `Decimal128(RATE_PRECISION, RATE_SCALE)`.
pub const RATE_PRECISION: u8 = 30;
pub const RATE_SCALE: i8 = 12;
/// The largest absolute money value an input row may hold: one trillion (10^12) in
/// the currency unit. A larger value is rejected with its row ("money value too large
/// (over 1e12)"), so that a SUM over hundreds of millions of rows stays far inside
/// the Decimal128(28, 2) that DataFusion sums a Decimal128(18, 2) column into (18 + 10
/// digits): 10^12 x 10^14 rows still fits.
pub const MONEY_MAX_ABS: i128 = 1_000_000_000_000;
/// [`MONEY_MAX_ABS`] in cents (the unit of the stored decimal).
pub const MONEY_MAX_ABS_CENTS: i128 = MONEY_MAX_ABS * 100;

/// The type of a canonical column, with the parsing rules that go with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Float,
    Bool,
    /// UTC timestamp, microseconds.
    Timestamp,
    Date,
    /// Exact decimal money, `Decimal128(18, 2)`.
    Money,
    /// Lower-case text restricted to a fixed set of values.
    Enum(&'static [&'static str]),
    /// A three-letter currency code (ISO 4217), upper-cased.
    Currency,
    /// A positive exchange rate, `Decimal128(30, 12)` (more decimals are rounded).
    Rate,
}

impl Kind {
    pub fn data_type(self) -> DataType {
        match self {
            Kind::Text | Kind::Enum(_) | Kind::Currency => DataType::Utf8,
            Kind::Int => DataType::Int64,
            Kind::Float => DataType::Float64,
            Kind::Bool => DataType::Boolean,
            Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            Kind::Date => DataType::Date32,
            Kind::Money => DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE),
            Kind::Rate => DataType::Decimal128(RATE_PRECISION, RATE_SCALE),
        }
    }

    pub fn describe(self) -> String {
        match self {
            Kind::Text => "text".into(),
            Kind::Int => "integer".into(),
            Kind::Float => "number".into(),
            Kind::Bool => "boolean (true/false)".into(),
            Kind::Timestamp => "UTC timestamp (RFC 3339 or YYYY-MM-DD[ HH:MM:SS])".into(),
            Kind::Date => "date (YYYY-MM-DD)".into(),
            Kind::Money => "decimal money (at most 2 decimals)".into(),
            Kind::Enum(values) => format!("one of {}", values.join(", ")),
            Kind::Currency => "three-letter currency code (ISO 4217, e.g. USD)".into(),
            Kind::Rate => "positive decimal number".into(),
        }
    }
}

/// One column of a canonical table.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub kind: Kind,
    /// A required column must be present in the file and non-empty in every row.
    pub required: bool,
    /// Value used when an optional column is absent or empty.
    pub default: Option<&'static str>,
}

/// A reference from a column to the primary key of another table.
#[derive(Debug, Clone, Copy)]
pub struct ForeignKey {
    pub column: &'static str,
    pub table: &'static str,
}

/// One canonical input table.
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    pub name: &'static str,
    /// Optional tables may be absent; outputs that need them are skipped.
    pub optional: bool,
    pub columns: &'static [ColumnSpec],
    pub primary_key: Option<&'static str>,
    pub foreign_keys: &'static [ForeignKey],
    /// Rules relating the columns of one row; a row breaking one is rejected.
    pub row_rules: &'static [RowRule],
    /// Columns whose values together name one fact: later copies are rejected.
    pub natural_key: Option<NaturalKey>,
    /// How the table is seen as of the end of the report month.
    pub as_of: AsOf,
    /// Date columns of activity: the latest of them (up to the day of the run) is how
    /// far the data goes ("data through") and sets the default report month.
    pub activity_columns: &'static [&'static str],
}

/// A rule relating columns of one row (checked at load; a breaking row is a reject).
#[derive(Debug, Clone, Copy)]
pub enum RowRule {
    /// `later` is not before `earlier` (two dates or two timestamps).
    NotBefore {
        later: &'static str,
        earlier: &'static str,
    },
    /// A money column is not negative.
    NotNegative(&'static str),
    /// A decided (won or lost) opportunity has a `closed_at`.
    ClosedWhenDecided,
}

/// Columns that together identify one fact (a stage entry, a target).
#[derive(Debug, Clone, Copy)]
pub struct NaturalKey {
    pub columns: &'static [&'static str],
    /// The column a duplicate is reported on.
    pub reported_on: &'static str,
    pub reason: &'static str,
}

/// How a table is seen as of the end of the report month.
#[derive(Debug, Clone, Copy)]
pub struct AsOf {
    /// The rule in words (`revalign plan`, docs/schema.md).
    pub rule: &'static str,
    /// Rows whose timestamp in this column is at or after the report end are dropped
    /// when the table is registered (the large event tables: filtered once, not in a
    /// view every query evaluates).
    pub drop_from_report_end: Option<&'static str>,
    /// Otherwise a view over `input_<name>` and `params` (report_end, report_end_date).
    pub view_sql: Option<&'static str>,
}

/// Reference data: seen whole.
const WHOLE: AsOf = AsOf {
    rule: "reference data, seen whole",
    drop_from_report_end: None,
    view_sql: None,
};

/// The defaults of the new fields: no row rules, no natural key, seen whole, no
/// activity dates.
const REFERENCE: TableSpec = TableSpec {
    name: "",
    optional: true,
    columns: &[],
    primary_key: None,
    foreign_keys: &[],
    row_rules: &[],
    natural_key: None,
    as_of: WHOLE,
    activity_columns: &[],
};

impl TableSpec {
    /// Arrow schema of the loaded table (nullable throughout: required values are
    /// enforced by validation, which rejects the row).
    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|c| Field::new(c.name, c.kind.data_type(), true))
                .collect::<Vec<_>>(),
        ))
    }

    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }
}

pub const CONTACT_ROLES: &[&str] = &[
    "economic_buyer",
    "technical_buyer",
    "procurement",
    "influencer",
    "champion",
    "end_user",
    "unknown",
];
pub const TOUCH_KINDS: &[&str] = &["marketing", "sales"];
pub const STAGES: &[&str] = &[
    "lead",
    "mql",
    "sal",
    "sql",
    "opportunity",
    "customer",
    "recycled",
    "disqualified",
];
pub const OPPORTUNITY_STATUSES: &[&str] = &["open", "won", "lost"];
pub const OPPORTUNITY_TYPES: &[&str] = &["new_business", "expansion", "renewal"];
pub const OPPORTUNITY_SOURCES: &[&str] = &[
    "marketing",
    "sales",
    "partner",
    "customer_success",
    "unknown",
];
pub const COST_FUNCTIONS: &[&str] = &["marketing", "sales", "customer_success"];

const fn req(name: &'static str, kind: Kind) -> ColumnSpec {
    ColumnSpec {
        name,
        kind,
        required: true,
        default: None,
    }
}
const fn opt(name: &'static str, kind: Kind) -> ColumnSpec {
    ColumnSpec {
        name,
        kind,
        required: false,
        default: None,
    }
}
const fn dflt(name: &'static str, kind: Kind, default: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        kind,
        required: false,
        default: Some(default),
    }
}
const fn fk(column: &'static str, table: &'static str) -> ForeignKey {
    ForeignKey { column, table }
}

use Kind::*;

pub const ACCOUNTS: TableSpec = TableSpec {
    name: "accounts",
    optional: false,
    columns: &[
        req("account_id", Text),
        opt("name", Text),
        opt("domain", Text),
        opt("industry", Text),
        opt("employees", Int),
        opt("region", Text),
        opt("country", Text),
        opt("annual_revenue", Money),
        opt("technologies", Text),
        dflt("is_target", Bool, "false"),
        opt("created_at", Timestamp),
    ],
    primary_key: Some("account_id"),
    foreign_keys: &[],
    ..REFERENCE
};

pub const CONTACTS: TableSpec = TableSpec {
    name: "contacts",
    optional: false,
    columns: &[
        req("contact_id", Text),
        req("account_id", Text),
        dflt("role", Enum(CONTACT_ROLES), "unknown"),
        opt("title", Text),
        opt("email", Text),
        opt("created_at", Timestamp),
    ],
    primary_key: Some("contact_id"),
    foreign_keys: &[fk("account_id", "accounts")],
    ..REFERENCE
};

pub const CAMPAIGNS: TableSpec = TableSpec {
    name: "campaigns",
    optional: true,
    columns: &[
        req("campaign_id", Text),
        req("name", Text),
        req("channel", Text),
        opt("start_date", Date),
        opt("end_date", Date),
    ],
    primary_key: Some("campaign_id"),
    foreign_keys: &[],
    row_rules: &[RowRule::NotBefore {
        later: "end_date",
        earlier: "start_date",
    }],
    ..REFERENCE
};

pub const TOUCHES: TableSpec = TableSpec {
    name: "touches",
    optional: true,
    columns: &[
        req("touch_id", Text),
        req("contact_id", Text),
        req("ts", Timestamp),
        req("channel", Text),
        req("kind", Enum(TOUCH_KINDS)),
        opt("activity", Text),
        opt("campaign_id", Text),
    ],
    primary_key: Some("touch_id"),
    foreign_keys: &[fk("contact_id", "contacts")],
    as_of: AsOf {
        rule: "rows at or after the report end are dropped",
        drop_from_report_end: Some("ts"),
        view_sql: None,
    },
    activity_columns: &["ts"],
    ..REFERENCE
};

pub const LIFECYCLE: TableSpec = TableSpec {
    name: "lifecycle",
    optional: true,
    columns: &[
        req("contact_id", Text),
        req("stage", Enum(STAGES)),
        req("ts", Timestamp),
        opt("reason", Text),
    ],
    primary_key: None,
    foreign_keys: &[fk("contact_id", "contacts")],
    natural_key: Some(NaturalKey {
        columns: &["contact_id", "stage", "ts"],
        reported_on: "ts",
        reason: "duplicate stage entry (same contact, stage and time)",
    }),
    as_of: AsOf {
        rule: "rows at or after the report end are dropped",
        drop_from_report_end: Some("ts"),
        view_sql: None,
    },
    activity_columns: &["ts"],
    ..REFERENCE
};

pub const FX_RATES: TableSpec = TableSpec {
    name: "fx_rates",
    optional: true,
    columns: &[
        req("currency", Currency),
        req("start_date", Date),
        req("rate", Rate),
    ],
    primary_key: None,
    foreign_keys: &[],
    natural_key: Some(NaturalKey {
        columns: &["currency", "start_date"],
        reported_on: "start_date",
        reason: "duplicate rate (same currency and start date)",
    }),
    ..REFERENCE
};

pub const OPPORTUNITIES: TableSpec = TableSpec {
    name: "opportunities",
    optional: false,
    columns: &[
        req("opportunity_id", Text),
        req("account_id", Text),
        req("created_at", Timestamp),
        opt("closed_at", Timestamp),
        req("status", Enum(OPPORTUNITY_STATUSES)),
        req("amount", Money),
        dflt("type", Enum(OPPORTUNITY_TYPES), "new_business"),
        dflt("source", Enum(OPPORTUNITY_SOURCES), "unknown"),
        opt("primary_contact_id", Text),
        opt("currency", Currency),
    ],
    primary_key: Some("opportunity_id"),
    foreign_keys: &[
        fk("account_id", "accounts"),
        fk("primary_contact_id", "contacts"),
    ],
    row_rules: &[
        RowRule::NotBefore {
            later: "closed_at",
            earlier: "created_at",
        },
        RowRule::ClosedWhenDecided,
        RowRule::NotNegative("amount"),
    ],
    as_of: AsOf {
        rule: "created before the report end; closed at or after it: seen open",
        drop_from_report_end: None,
        view_sql: Some(
            "SELECT o.opportunity_id, o.account_id, o.created_at,
                    CASE WHEN o.closed_at >= p.report_end THEN NULL ELSE o.closed_at END AS closed_at,
                    CASE WHEN o.closed_at >= p.report_end THEN 'open' ELSE o.status END AS status,
                    o.amount, o.type, o.source, o.primary_contact_id, o.currency
             FROM input_opportunities o, params p WHERE o.created_at < p.report_end",
        ),
    },
    activity_columns: &["created_at", "closed_at"],
    ..REFERENCE
};

pub const OPPORTUNITY_CONTACTS: TableSpec = TableSpec {
    name: "opportunity_contacts",
    optional: true,
    columns: &[
        req("opportunity_id", Text),
        req("contact_id", Text),
        req("role", Text),
    ],
    primary_key: None,
    foreign_keys: &[
        fk("opportunity_id", "opportunities"),
        fk("contact_id", "contacts"),
    ],
    natural_key: Some(NaturalKey {
        columns: &["opportunity_id", "contact_id", "role"],
        reported_on: "role",
        reason: "duplicate contact role (same opportunity, contact and role)",
    }),
    as_of: AsOf {
        rule: "of the opportunities created before the report end",
        drop_from_report_end: None,
        view_sql: Some(
            "SELECT oc.* FROM input_opportunity_contacts oc, input_opportunities o, params p
             WHERE oc.opportunity_id = o.opportunity_id AND o.created_at < p.report_end",
        ),
    },
    ..REFERENCE
};

pub const SUBSCRIPTIONS: TableSpec = TableSpec {
    name: "subscriptions",
    optional: true,
    columns: &[
        req("subscription_id", Text),
        req("account_id", Text),
        req("start_date", Date),
        opt("end_date", Date),
        req("mrr", Money),
        opt("product", Text),
        opt("currency", Currency),
    ],
    primary_key: Some("subscription_id"),
    foreign_keys: &[fk("account_id", "accounts")],
    row_rules: &[
        RowRule::NotBefore {
            later: "end_date",
            earlier: "start_date",
        },
        RowRule::NotNegative("mrr"),
    ],
    as_of: AsOf {
        rule: "started before the month end; ending at or after it: seen active",
        drop_from_report_end: None,
        view_sql: Some(
            "SELECT s.subscription_id, s.account_id, s.start_date,
                    CASE WHEN s.end_date >= p.report_end_date THEN NULL ELSE s.end_date END AS end_date,
                    s.mrr, s.product, s.currency
             FROM input_subscriptions s, params p WHERE s.start_date < p.report_end_date",
        ),
    },
    activity_columns: &["start_date"],
    ..REFERENCE
};

pub const SPEND: TableSpec = TableSpec {
    name: "spend",
    optional: true,
    columns: &[
        req("month", Date),
        req("channel", Text),
        opt("campaign_id", Text),
        req("amount", Money),
        opt("currency", Currency),
    ],
    primary_key: None,
    foreign_keys: &[],
    row_rules: &[RowRule::NotNegative("amount")],
    as_of: AsOf {
        rule: "months up to the report month",
        drop_from_report_end: None,
        view_sql: Some("SELECT s.* FROM input_spend s, params p WHERE s.month < p.report_end_date"),
    },
    ..REFERENCE
};

pub const COSTS: TableSpec = TableSpec {
    name: "costs",
    optional: true,
    columns: &[
        req("month", Date),
        req("function", Enum(COST_FUNCTIONS)),
        req("amount", Money),
        opt("currency", Currency),
    ],
    primary_key: None,
    foreign_keys: &[],
    row_rules: &[RowRule::NotNegative("amount")],
    as_of: AsOf {
        rule: "months up to the report month",
        drop_from_report_end: None,
        view_sql: Some("SELECT c.* FROM input_costs c, params p WHERE c.month < p.report_end_date"),
    },
    ..REFERENCE
};

pub const COMPANIES: TableSpec = TableSpec {
    name: "companies",
    optional: true,
    columns: &[
        req("company_id", Text),
        req("domain", Text),
        req("name", Text),
        req("industry", Text),
        req("employees", Int),
        req("region", Text),
        opt("country", Text),
        opt("technologies", Text),
    ],
    primary_key: Some("company_id"),
    foreign_keys: &[],
    ..REFERENCE
};

pub const TARGETS: TableSpec = TableSpec {
    name: "targets",
    optional: true,
    columns: &[
        req("month", Date),
        req("metric", Text),
        req("target", Float),
        opt("segment", Text),
    ],
    primary_key: None,
    foreign_keys: &[],
    natural_key: Some(NaturalKey {
        columns: &["metric", "month", "segment"],
        reported_on: "target",
        reason: "duplicate target (same metric, month and segment)",
    }),
    ..REFERENCE
};

/// All canonical tables, in load order: a table's foreign keys point only to tables
/// before it, so cascading rejects (a touch of a rejected contact) resolve in one pass.
pub const TABLES: &[TableSpec] = &[
    ACCOUNTS,
    CONTACTS,
    CAMPAIGNS,
    FX_RATES,
    OPPORTUNITIES,
    TOUCHES,
    LIFECYCLE,
    OPPORTUNITY_CONTACTS,
    SUBSCRIPTIONS,
    SPEND,
    COSTS,
    COMPANIES,
    TARGETS,
];

pub fn table(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|t| t.name == name)
}

/// A fact about the inputs that decides what can be measured, one row of the
/// `coverage` output. Outputs, scorecard metrics and charts name the facts they need
/// (`-- needs:` in a query header, `needs = [...]` in `reports/*.toml`); an unmet need
/// makes them "not measurable from these inputs" with the fact's reason.
#[derive(Debug, Clone, Copy)]
pub struct Fact {
    pub key: &'static str,
    /// What the fact counts, for people ("lost opportunities"): the reason when it is
    /// missing reads "no <what>".
    pub what: &'static str,
    /// The table whose rows (as of the report month) are counted.
    pub table: &'static str,
    /// SQL predicate over the table's columns: the rows that count.
    pub filter: &'static str,
    /// Column whose range gives the fact's first and last dates.
    pub date: Option<&'static str>,
    /// A whole query instead of `filter`, returning one row (rows BIGINT).
    pub sql: Option<&'static str>,
}

const fn fact(
    key: &'static str,
    what: &'static str,
    table: &'static str,
    filter: &'static str,
    date: Option<&'static str>,
) -> Fact {
    Fact {
        key,
        what,
        table,
        filter,
        date,
        sql: None,
    }
}

/// The facts derived from rows (besides one fact per input table, named after it).
pub const DERIVED_FACTS: &[Fact] = &[
    fact("marketing_touches", "marketing touches (touches.kind = 'marketing')", "touches", "kind = 'marketing'", Some("ts")),
    fact("sales_touches", "sales touches (touches.kind = 'sales')", "touches", "kind = 'sales'", Some("ts")),
    fact("won_opportunities", "won opportunities", "opportunities", "status = 'won'", Some("closed_at")),
    fact("lost_opportunities", "lost opportunities", "opportunities", "status = 'lost'", Some("closed_at")),
    fact("open_opportunities", "open opportunities", "opportunities", "status = 'open'", Some("created_at")),
    fact("new_business_opportunities", "new-business opportunities", "opportunities", "type = 'new_business'", Some("created_at")),
    fact("won_new_business", "won new-business opportunities", "opportunities", "type = 'new_business' AND status = 'won'", Some("closed_at")),
    fact("lost_new_business", "lost new-business opportunities", "opportunities", "type = 'new_business' AND status = 'lost'", Some("closed_at")),
    fact("lost_expansion_renewal", "lost expansion or renewal opportunities", "opportunities", "type IN ('expansion', 'renewal') AND status = 'lost'", Some("closed_at")),
    fact("won_expansion_renewal", "won expansion or renewal opportunities", "opportunities", "type IN ('expansion', 'renewal') AND status = 'won'", Some("closed_at")),
    Fact {
        key: "spend_on_touched_channels",
        what: "spend above zero on a channel that has marketing touches",
        table: "spend",
        filter: "",
        date: None,
        sql: Some(
            "SELECT COUNT(*) AS rows FROM spend s
             WHERE s.amount > 0
               AND s.channel IN (SELECT DISTINCT channel FROM touches WHERE kind = 'marketing')",
        ),
    },
    Fact {
        key: "attributable_touches",
        what: "touches attribution counts (marketing touches; sales touches too with include_sales_touches)",
        table: "touches",
        filter: "",
        date: None,
        sql: Some(
            "SELECT COUNT(*) AS rows FROM touches t CROSS JOIN params p
             WHERE t.kind = 'marketing' OR p.include_sales_touches",
        ),
    },
    fact("expansion_renewal_opportunities", "expansion or renewal opportunities", "opportunities", "type IN ('expansion', 'renewal')", Some("created_at")),
    fact("contact_roles", "contact roles (contacts.role other than unknown)", "contacts", "role <> 'unknown'", None),
    fact("opportunity_contact_roles", "opportunity contact roles", "opportunity_contacts", "role IS NOT NULL AND trim(role) <> ''", None),
    Fact {
        key: "buying_roles",
        what: "buying roles (opportunity_contacts.role or contacts.role)",
        table: "contacts",
        filter: "",
        date: None,
        sql: Some(
            "SELECT (SELECT COUNT(*) FROM contacts WHERE role <> 'unknown')
                  + (SELECT COUNT(*) FROM opportunity_contacts WHERE role IS NOT NULL AND trim(role) <> '') AS rows",
        ),
    },
    fact("target_accounts", "target accounts (accounts.is_target)", "accounts", "is_target", Some("created_at")),
    Fact {
        key: "firmographic_variety",
        what: "variety in firmographics (accounts differ in industry, employees or region)",
        table: "accounts",
        filter: "",
        date: None,
        sql: Some(
            "SELECT CASE WHEN COUNT(DISTINCT industry) > 1 OR COUNT(DISTINCT employees) > 1
                          OR COUNT(DISTINCT region) > 1 THEN COUNT(*) ELSE 0 END AS rows
             FROM accounts",
        ),
    },
    Fact {
        key: "revenue_history_12m",
        what: "subscriptions started 12 months before the report month (for 12-month retention)",
        table: "subscriptions",
        filter: "",
        date: None,
        sql: Some(
            "SELECT COUNT(*) AS rows FROM subscriptions s CROSS JOIN params p
             WHERE s.start_date < CAST(p.report_month - INTERVAL '11 months' AS DATE)",
        ),
    },
    Fact {
        key: "closed_before_icp_cutoff",
        what: "new-business opportunities closed before the ICP holdout cut-off (params.icp_cutoff)",
        table: "opportunities",
        filter: "",
        date: None,
        sql: Some(
            "SELECT COUNT(*) AS rows FROM opportunities o CROSS JOIN params p
             WHERE o.type = 'new_business' AND o.status IN ('won', 'lost')
               AND o.closed_at < p.icp_cutoff",
        ),
    },
    Fact {
        key: "acquisition_costs",
        what: "acquisition costs (`spend` or `costs` rows)",
        table: "spend",
        filter: "",
        date: None,
        sql: Some(
            "SELECT (SELECT COUNT(*) FROM spend) + (SELECT COUNT(*) FROM costs) AS rows",
        ),
    },
    fact("stage_lead", "lead stage entries (lifecycle.stage = 'lead')", "lifecycle", "stage = 'lead'", Some("ts")),
    fact("stage_mql", "MQL stage entries (lifecycle.stage = 'mql')", "lifecycle", "stage = 'mql'", Some("ts")),
    fact("stage_sal", "SAL stage entries (lifecycle.stage = 'sal')", "lifecycle", "stage = 'sal'", Some("ts")),
    fact("stage_sql", "SQL stage entries (lifecycle.stage = 'sql')", "lifecycle", "stage = 'sql'", Some("ts")),
    fact("stage_opportunity", "opportunity stage entries (lifecycle.stage = 'opportunity')", "lifecycle", "stage = 'opportunity'", Some("ts")),
];

/// The table a fact counts rows of (a table's own fact: the table).
pub fn fact_table(key: &str) -> &'static str {
    TABLES
        .iter()
        .find(|t| t.name == key)
        .map(|t| t.name)
        .or_else(|| DERIVED_FACTS.iter().find(|f| f.key == key).map(|f| f.table))
        .unwrap_or("")
}

/// Every fact key: one per input table, then [`DERIVED_FACTS`].
pub fn fact_keys() -> impl Iterator<Item = &'static str> {
    TABLES
        .iter()
        .map(|t| t.name)
        .chain(DERIVED_FACTS.iter().map(|f| f.key))
}

impl TableSpec {
    /// The table's date and timestamp columns, in schema order.
    pub fn date_columns(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.columns
            .iter()
            .filter(|c| matches!(c.kind, Kind::Date | Kind::Timestamp))
            .map(|c| c.name)
    }

    /// The column giving the table's date range in `coverage`: its first date or
    /// timestamp column.
    pub fn date_column(&self) -> Option<&'static str> {
        self.date_columns().next()
    }
}

/// Schema of the `rejects` output (without `report_month`).
pub fn rejects_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("table", DataType::Utf8, false),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("row_number", DataType::Int64, false),
        Field::new("column", DataType::Utf8, true),
        Field::new("reason", DataType::Utf8, false),
        Field::new("raw_value", DataType::Utf8, true),
        Field::new("record_key", DataType::Utf8, true),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_keys_point_backwards_in_load_order() {
        for (i, t) in TABLES.iter().enumerate() {
            for f in t.foreign_keys {
                let target = TABLES.iter().position(|x| x.name == f.table).unwrap();
                assert!(target < i, "{} -> {} breaks load order", t.name, f.table);
                assert!(t.column(f.column).is_some());
            }
        }
    }
}
