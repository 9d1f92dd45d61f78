//! The simulated market: channels (volume, cost, lead quality), industries, regions,
//! technologies, buying roles and company names, and how they are drawn.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

#[derive(Clone)]
pub(super) struct Channel {
    pub(super) name: &'static str,
    /// Share of marketing touch volume.
    pub(super) weight: f64,
    /// Media cost of one touch, in cents.
    pub(super) cost_per_touch: i64,
    /// Multiplier on MQL-to-SQL conversion and win rate.
    pub(super) quality: f64,
    pub(super) activities: &'static [&'static str],
    pub(super) campaigns: bool,
}

pub(super) const CHANNELS: &[Channel] = &[
    Channel {
        name: "organic_search",
        weight: 0.16,
        cost_per_touch: 112,
        quality: 1.0,
        activities: &["page_view", "form_fill"],
        campaigns: false,
    },
    Channel {
        name: "paid_search",
        weight: 0.14,
        cost_per_touch: 950,
        quality: 0.9,
        activities: &["ad_click", "form_fill"],
        campaigns: true,
    },
    Channel {
        name: "content",
        weight: 0.12,
        cost_per_touch: 350,
        quality: 1.1,
        activities: &["content_download", "form_fill"],
        campaigns: true,
    },
    Channel {
        name: "email",
        weight: 0.14,
        cost_per_touch: 37,
        quality: 0.8,
        activities: &["email_click"],
        campaigns: true,
    },
    Channel {
        name: "programmatic",
        weight: 0.12,
        cost_per_touch: 550,
        quality: 0.5,
        activities: &["ad_click"],
        campaigns: true,
    },
    Channel {
        name: "social",
        weight: 0.10,
        cost_per_touch: 400,
        quality: 0.6,
        activities: &["ad_click", "social_engagement"],
        campaigns: true,
    },
    Channel {
        name: "events",
        weight: 0.04,
        cost_per_touch: 6000,
        quality: 1.5,
        activities: &["event_visit", "meeting_booked"],
        campaigns: true,
    },
    Channel {
        name: "webinar",
        weight: 0.07,
        cost_per_touch: 1300,
        quality: 1.3,
        activities: &["webinar"],
        campaigns: true,
    },
    Channel {
        name: "referral",
        weight: 0.04,
        cost_per_touch: 225,
        quality: 1.7,
        activities: &["form_fill"],
        campaigns: false,
    },
    Channel {
        name: "direct",
        weight: 0.07,
        cost_per_touch: 0,
        quality: 1.2,
        activities: &["page_view", "form_fill"],
        campaigns: false,
    },
];

pub(super) const INDUSTRIES: &[(&str, f64, f64)] = &[
    ("software", 0.22, 0.6),
    ("fintech", 0.12, 0.45),
    ("healthcare", 0.12, 0.1),
    ("manufacturing", 0.14, 0.0),
    ("retail", 0.12, -0.3),
    ("logistics", 0.10, 0.05),
    ("education", 0.08, -0.4),
    ("media", 0.10, -0.15),
];

pub(super) const REGIONS: &[(&str, f64, f64, &[&str])] = &[
    ("north_america", 0.45, 0.25, &["US", "CA"]),
    ("emea", 0.33, 0.1, &["GB", "DE", "FR", "NL", "SE"]),
    ("apac", 0.16, -0.05, &["AU", "SG", "JP", "IN"]),
    ("latam", 0.06, -0.3, &["BR", "MX"]),
];

pub(super) const TECHNOLOGIES: &[(&str, f64, f64)] = &[
    ("salesforce", 0.35, 0.25),
    ("hubspot", 0.25, 0.0),
    ("snowflake", 0.18, 0.4),
    ("aws", 0.45, 0.1),
    ("azure", 0.25, 0.0),
    ("gcp", 0.15, 0.05),
    ("marketo", 0.12, 0.15),
    ("zendesk", 0.2, 0.0),
    ("sap", 0.12, -0.1),
    ("shopify", 0.1, -0.25),
];

pub(super) const ROLES: &[(&str, f64)] = &[
    ("end_user", 0.24),
    ("influencer", 0.2),
    ("technical_buyer", 0.15),
    ("champion", 0.1),
    ("economic_buyer", 0.1),
    ("procurement", 0.08),
    ("unknown", 0.13),
];

pub(super) const NAME_A: &[&str] = &[
    "North", "Blue", "Bright", "Iron", "Silver", "Swift", "Green", "Red", "Stone", "Clear",
    "Summit", "Harbor",
];
pub(super) const NAME_B: &[&str] = &[
    "wind", "field", "bridge", "works", "labs", "point", "line", "gate", "leaf", "path", "forge",
    "wave",
];

pub(super) fn pick_weighted<'a, T>(
    rng: &mut ChaCha8Rng,
    items: &'a [T],
    weight: impl Fn(&T) -> f64,
) -> &'a T {
    let total: f64 = items.iter().map(&weight).sum();
    let mut x = rng.gen::<f64>() * total;
    for item in items {
        x -= weight(item);
        if x <= 0.0 {
            return item;
        }
    }
    items.last().expect("non-empty")
}

/// Index of a channel drawn by touch-volume weight.
pub(super) fn pick_channel(rng: &mut ChaCha8Rng, channels: &[Channel]) -> usize {
    let chosen = pick_weighted(rng, channels, |c| c.weight);
    channels
        .iter()
        .position(|c| std::ptr::eq(c, chosen))
        .expect("one of the channels")
}

/// The marketing channels of a data set of `count` channels: the first `count` of
/// [`CHANNELS`], then paid channels `channel_11`, `channel_12`, ... of small volume
/// each (a market of many channels, for Markov attribution at scale).
pub(super) fn channels(count: usize) -> Vec<Channel> {
    let mut list: Vec<Channel> = CHANNELS.iter().take(count.max(1)).cloned().collect();
    for i in CHANNELS.len()..count {
        list.push(Channel {
            name: Box::leak(format!("channel_{:02}", i + 1).into_boxed_str()),
            weight: 0.02,
            cost_per_touch: 300 + 25 * (i as i64 % 20),
            quality: 0.6 + 0.05 * (i % 13) as f64,
            activities: &["ad_click", "form_fill"],
            campaigns: true,
        });
    }
    list
}
