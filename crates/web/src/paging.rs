//! Long lists a page at a time, in the GOV.UK pagination pattern (`?page=N`).
//!
//! A person with a thousand plans is shown what they can act on, not a thousand-row table: the
//! server sorts the whole list, then describes and renders one page of it. A page that does not
//! exist (`?page=0`, `?page=x`, past the end) is "not found", never an empty list that looks
//! like nothing is waiting.

use std::ops::Range;

use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageQuery {
    page: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    page: usize,
    pages: usize,
    per_page: usize,
    total: usize,
}

impl Paging {
    /// The page asked for of a list of `total` items, or `None` if there is no such page. An
    /// empty list has one (empty) page.
    pub(crate) fn of(query: &PageQuery, total: usize, per_page: usize) -> Option<Paging> {
        let pages = total.div_ceil(per_page).max(1);
        let page = match query.page.as_deref() {
            None => 1,
            Some(n) => n
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=pages).contains(n))?,
        };
        Some(Paging {
            page,
            pages,
            per_page,
            total,
        })
    }

    /// This page's number, from 1.
    pub(crate) fn page(&self) -> usize {
        self.page
    }

    /// How many pages there are (at least 1).
    pub(crate) fn pages(&self) -> usize {
        self.pages
    }

    /// The items on this page.
    pub(crate) fn range(&self) -> Range<usize> {
        let start = (self.page - 1) * self.per_page;
        start..(start + self.per_page).min(self.total)
    }

    /// What the template needs: "Showing 26 to 50 of 1,000", and the links (none when there is
    /// one page). Page links go to `path?page=N`; the first page is `path` itself.
    pub(crate) fn context(&self, path: &str) -> Value {
        let href = |n: usize| {
            if n == 1 {
                path.to_owned()
            } else {
                format!("{path}?page={n}")
            }
        };
        // The first, the last, and the pages either side of this one; gaps become an ellipsis.
        let mut items = Vec::new();
        let mut last_shown = 0;
        for n in 1..=self.pages {
            if n == 1 || n == self.pages || n.abs_diff(self.page) <= 1 {
                if n > last_shown + 1 {
                    items.push(json!({ "ellipsis": true }));
                }
                items.push(json!({ "number": n, "href": href(n), "current": n == self.page }));
                last_shown = n;
            }
        }
        let range = self.range();
        json!({
            "total": self.total,
            "from": range.start + 1,
            "to": range.end,
            "several": self.pages > 1,
            "prev": (self.page > 1).then(|| href(self.page - 1)),
            "next": (self.page < self.pages).then(|| href(self.page + 1)),
            "items": items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(page: &str) -> PageQuery {
        PageQuery {
            page: Some(page.into()),
        }
    }

    #[test]
    fn a_page_past_the_end_or_not_a_number_does_not_exist() {
        assert!(Paging::of(&query("5"), 100, 25).is_none());
        assert!(Paging::of(&query("0"), 100, 25).is_none());
        assert!(Paging::of(&query("two"), 100, 25).is_none());
        assert!(Paging::of(&query("4"), 100, 25).is_some());
        assert!(Paging::of(&PageQuery::default(), 0, 25).is_some());
    }

    #[test]
    fn the_last_page_holds_what_is_left() {
        let paging = Paging::of(&query("3"), 60, 25).unwrap();
        assert_eq!(paging.range(), 50..60);
    }

    #[test]
    fn links_show_the_ends_and_the_neighbours_with_gaps_marked() {
        let paging = Paging::of(&query("5"), 250, 25).unwrap();
        let context = paging.context("/");
        let shown: Vec<String> = context["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["number"].as_u64().map_or("…".into(), |n| n.to_string()))
            .collect();
        assert_eq!(shown, ["1", "…", "4", "5", "6", "…", "10"]);
        assert_eq!(context["prev"], "/?page=4");
        assert_eq!(context["next"], "/?page=6");
        assert_eq!(context["from"], 101);
        assert_eq!(context["to"], 125);
        let first = Paging::of(&PageQuery::default(), 250, 25).unwrap();
        assert_eq!(first.context("/")["prev"], Value::Null);
    }
}
