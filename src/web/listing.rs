//! The query of `/incidents` and `/api/incidents`: which status, which page (or offset and
//! limit). Every bad value is refused with a message naming what is accepted.

use crate::model::IncidentStatus;
use crate::store::IncidentFilter;

/// Incidents on one page of `/incidents`.
pub const PAGE_SIZE: i64 = 50;
/// `/api/incidents` without `limit`, and the most it gives at once.
const API_LIMIT: i64 = 200;
const API_MAX: i64 = 1000;

/// Which incidents a list shows, by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChoice {
    All,
    /// Open or escalated.
    Active,
    Only(IncidentStatus),
}

impl StatusChoice {
    fn parse(word: &str) -> Result<StatusChoice, String> {
        match word {
            "" | "all" => Ok(StatusChoice::All),
            "active" => Ok(StatusChoice::Active),
            other => IncidentStatus::parse(other).map(StatusChoice::Only).ok_or_else(|| {
                format!(
                    "unknown status `{other}`: expected one of all, active, open, escalated, resolved, recovered"
                )
            }),
        }
    }

    fn word(self) -> &'static str {
        match self {
            StatusChoice::All => "all",
            StatusChoice::Active => "active",
            StatusChoice::Only(status) => status.as_str(),
        }
    }

    fn filter(self) -> IncidentFilter {
        IncidentFilter {
            active_only: self == StatusChoice::Active,
            status: match self {
                StatusChoice::Only(status) => Some(status),
                _ => None,
            },
            ..IncidentFilter::default()
        }
    }
}

/// One page of `/incidents` (`?status=WORD&page=N`, pages from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentList {
    pub status: StatusChoice,
    pub page: i64,
}

impl IncidentList {
    /// The filter links, in order: the query word and its label.
    pub const STATUSES: [(&'static str, &'static str); 6] = [
        ("all", "All"),
        ("active", "Active"),
        ("open", "Open"),
        ("escalated", "Escalated"),
        ("resolved", "Resolved"),
        ("recovered", "Recovered"),
    ];

    pub fn parse(query: &str) -> Result<IncidentList, String> {
        let mut list = IncidentList {
            status: StatusChoice::All,
            page: 1,
        };
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match &*key {
                "status" => list.status = StatusChoice::parse(&value)?,
                "page" => list.page = positive("page", &value, 1)?,
                _ => {}
            }
        }
        Ok(list)
    }

    pub fn status_word(&self) -> &'static str {
        self.status.word()
    }

    /// The same page with another status (`word` is one of `STATUSES`).
    pub fn with_status(self, word: &str) -> IncidentList {
        IncidentList {
            status: StatusChoice::parse(word).unwrap_or(StatusChoice::All),
            ..self
        }
    }

    pub fn url(&self) -> String {
        format!(
            "/incidents?status={}&page={}",
            self.status.word(),
            self.page
        )
    }

    pub fn filter(&self) -> IncidentFilter {
        IncidentFilter {
            limit: Some(PAGE_SIZE),
            offset: Some((self.page - 1) * PAGE_SIZE),
            ..self.status.filter()
        }
    }
}

/// `/api/incidents?status=WORD&limit=N&offset=N`.
pub fn api_filter(query: &str) -> Result<IncidentFilter, String> {
    let mut status = StatusChoice::All;
    let (mut limit, mut offset) = (API_LIMIT, 0);
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*key {
            "status" => status = StatusChoice::parse(&value)?,
            "limit" => limit = positive("limit", &value, 1)?.min(API_MAX),
            "offset" => offset = positive("offset", &value, 0)?,
            _ => {}
        }
    }
    Ok(IncidentFilter {
        limit: Some(limit),
        offset: Some(offset),
        ..status.filter()
    })
}

/// A whole number of at least `least`, or a message saying what was wrong.
fn positive(key: &str, value: &str, least: i64) -> Result<i64, String> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= least && *n <= i64::MAX / PAGE_SIZE)
        .ok_or_else(|| format!("bad {key} `{value}`: expected a whole number from {least}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_and_a_status_make_an_offset_and_a_filter() {
        let list = IncidentList::parse("status=escalated&page=3").unwrap();
        let filter = list.filter();
        assert_eq!(filter.status, Some(IncidentStatus::Escalated));
        assert_eq!((filter.limit, filter.offset), (Some(50), Some(100)));
        assert_eq!(list.url(), "/incidents?status=escalated&page=3");
        assert!(
            IncidentList::parse("status=active")
                .unwrap()
                .filter()
                .active_only
        );
    }

    #[test]
    fn bad_values_are_refused_with_what_is_accepted() {
        for bad in [
            "status=broken",
            "page=0",
            "page=-1",
            "page=x",
            "page=99999999999999999999",
        ] {
            let err = IncidentList::parse(bad).unwrap_err();
            assert!(err.contains("expected"), "{bad}: {err}");
        }
        assert!(api_filter("limit=0").is_err());
        assert!(api_filter("offset=-5").is_err());
        assert_eq!(api_filter("limit=5000").unwrap().limit, Some(1000));
    }
}
