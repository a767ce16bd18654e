//! The contract's `Date` (`YYYY-MM-DD`) and `DateTime` (RFC 3339) scalars, ours rather than
//! async-graphql's so that parsing one is where its range is checked: every date and time a
//! client sends, wherever it appears, lies between 1 January 2000 and 31 December 2100 (London
//! time, so a moment late on 31 December 2100 in London is still in range), or the request is
//! refused with `BAD_INPUT` before any resolver runs. A committee meeting in the year 262000 is a
//! typing mistake, and a calendar cannot print it. `JSON` comes from async-graphql (`Json<T>`).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{DateTime, NaiveDate, Utc};

/// The first date a client may send.
pub const EARLIEST: NaiveDate = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
/// The last date a client may send.
pub const LATEST: NaiveDate = NaiveDate::from_ymd_opt(2100, 12, 31).unwrap();

fn out_of_range(text: &str) -> String {
    format!(
        "{text:?} is outside the dates councilflow accepts ({} to {})",
        EARLIEST.format("%-d %B %Y"),
        LATEST.format("%-d %B %Y")
    )
}

/// A calendar date, `YYYY-MM-DD`, in range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// A calendar date, YYYY-MM-DD, from 2000-01-01 to 2100-12-31.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(s) = &value else {
            return Err(InputValueError::expected_type(value));
        };
        let date = NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| InputValueError::custom(format!("{s:?} is not a date (YYYY-MM-DD)")))?;
        if !(EARLIEST..=LATEST).contains(&date) {
            return Err(InputValueError::custom(out_of_range(s)));
        }
        Ok(Date(date))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// A moment, RFC 3339 with an offset (`2024-07-19T16:00:00+01:00`), whose London date is in
/// range. Answers are in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moment(pub DateTime<Utc>);

impl From<DateTime<Utc>> for Moment {
    fn from(t: DateTime<Utc>) -> Moment {
        Moment(t)
    }
}

/// A date and time, RFC 3339 with an offset (2024-07-19T16:00:00+01:00), whose London date is
/// from 2000-01-01 to 2100-12-31. Answers are in UTC.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339"
)]
impl ScalarType for Moment {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(s) = &value else {
            return Err(InputValueError::expected_type(value));
        };
        let t = DateTime::parse_from_rfc3339(s).map_err(|e| {
            InputValueError::custom(format!(
                "{s:?} is not a date and time (RFC 3339, such as 2024-07-19T16:00:00+01:00): {e}"
            ))
        })?;
        let t = t.with_timezone(&Utc);
        let london = t.with_timezone(&chrono_tz::Europe::London).date_naive();
        if !(EARLIEST..=LATEST).contains(&london) {
            return Err(InputValueError::custom(out_of_range(s)));
        }
        Ok(Moment(t))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Result<Date, String> {
        Date::parse(Value::String(text.into()))
            .map_err(|e| e.into_server_error(Default::default()).message)
    }

    fn moment(text: &str) -> Result<Moment, String> {
        Moment::parse(Value::String(text.into()))
            .map_err(|e| e.into_server_error(Default::default()).message)
    }

    #[test]
    fn a_date_in_the_range_is_accepted_at_both_ends() {
        assert!(date("2000-01-01").is_ok());
        assert!(date("2024-07-19").is_ok());
        assert!(date("2100-12-31").is_ok());
    }

    #[test]
    fn a_date_outside_the_range_is_refused_naming_the_range() {
        for text in ["1999-12-31", "2101-01-01", "+262000-01-05"] {
            let err = date(text).unwrap_err();
            assert!(
                err.contains("1 January 2000 to 31 December 2100") || err.contains("not a date"),
                "{text}: {err}"
            );
        }
        assert!(date("2101-01-01").unwrap_err().contains("outside"));
    }

    #[test]
    fn a_moment_is_judged_by_its_london_date() {
        assert!(moment("2024-07-19T16:00:00+01:00").is_ok());
        assert!(moment("2100-12-31T23:59:59Z").is_ok());
        assert!(moment("2000-01-01T00:00:00Z").is_ok());
        // 23:30 on 31 December 1999 in UTC is still 1999 in London (GMT).
        assert!(moment("1999-12-31T23:30:00Z")
            .unwrap_err()
            .contains("outside"));
        assert!(moment("2101-01-01T00:00:00Z")
            .unwrap_err()
            .contains("outside"));
        assert!(moment("+262143-12-31T23:59:59Z").is_err());
        assert!(moment("2024-07-19T16:00:00+25:00").is_err());
    }
}
