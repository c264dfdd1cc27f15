//! From command line options to the library's `Filter`. Names of kinds,
//! statuses, sources and categories are parsed by the library.

use actioncenter::chrono::{DateTime, Duration, NaiveDate, Utc};
use actioncenter::{Error, Filter, Status};

use crate::args::FilterArgs;

/// The library's filter for these options; times relative to `now`.
pub fn build(args: &FilterArgs, now: DateTime<Utc>) -> Result<Filter, Error> {
    Ok(Filter {
        kinds: parse_all("kind", &args.kind)?,
        categories: parse_all("category", &args.category)?,
        sources: parse_all("source", &args.source)?,
        investigation_id: args.investigation.clone(),
        entity: args.entity.clone(),
        created_by: args.created_by.clone(),
        created_after: args
            .since
            .as_deref()
            .map(|w| parse_when("since", w, now))
            .transpose()?,
        created_before: args
            .until
            .as_deref()
            .map(|w| parse_when("until", w, now))
            .transpose()?,
        ..Filter::default()
    })
}

/// The statuses named by `--status`: `all`, or names; the History tab's
/// statuses when none are named.
pub fn statuses(names: &[String]) -> Result<Vec<Status>, Error> {
    if names.is_empty() {
        return Ok(Status::HISTORY.to_vec());
    }
    if names.iter().any(|n| n.trim() == "all") {
        return Ok(Status::ALL.to_vec());
    }
    parse_all("status", names)
}

/// The values an option names, comma separated. An option given with
/// nothing in it (`--kind ""`, often an unset shell variable) is refused:
/// read as "any", it would widen a bulk decision to every action.
fn parse_all<T>(field: &str, names: &[String]) -> Result<Vec<T>, Error>
where
    T: std::str::FromStr<Err = Error> + PartialEq,
{
    let mut out = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let value = name.parse::<T>()?;
        if !out.contains(&value) {
            out.push(value);
        }
    }
    if out.is_empty() && !names.is_empty() {
        return Err(Error::validation(
            field,
            "names nothing: give one or more, comma separated",
        ));
    }
    Ok(out)
}

/// A point in time: RFC 3339 (`2025-06-01T10:00:00Z`), a UTC date
/// (`2025-06-01`), or an age before `now` (`30m`, `12h`, `7d`, `2w`).
pub fn parse_when(field: &str, text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Error> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Some(midnight) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
    {
        return Ok(midnight.and_utc());
    }
    let age = text
        .char_indices()
        .last()
        .and_then(|(i, unit)| {
            let n: i64 = text[..i].parse().ok().filter(|n| *n >= 0)?;
            match unit {
                'm' => Duration::try_minutes(n),
                'h' => Duration::try_hours(n),
                'd' => Duration::try_days(n),
                'w' => Duration::try_weeks(n),
                _other => None,
            }
        })
        .and_then(|d| now.checked_sub_signed(d));
    age.ok_or_else(|| {
        Error::validation(
            field,
            format!(
                "{text:?} is not a time: use 2025-06-01, 2025-06-01T10:00:00Z, or an age such as 30m, 12h, 7d, 2w"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-06-10T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn ages_count_back_from_now() {
        let at = parse_when("since", "36h", now()).map(|t| t.to_rfc3339());
        assert_eq!(at.ok().as_deref(), Some("2025-06-09T00:00:00+00:00"));
        let at = parse_when("since", "2w", now()).map(|t| t.to_rfc3339());
        assert_eq!(at.ok().as_deref(), Some("2025-05-27T12:00:00+00:00"));
    }

    #[test]
    fn dates_are_utc_midnight_and_rfc3339_keeps_its_offset() {
        let at = parse_when("until", "2025-06-01", now()).map(|t| t.to_rfc3339());
        assert_eq!(at.ok().as_deref(), Some("2025-06-01T00:00:00+00:00"));
        let at = parse_when("until", "2025-06-01T10:00:00+02:00", now()).map(|t| t.to_rfc3339());
        assert_eq!(at.ok().as_deref(), Some("2025-06-01T08:00:00+00:00"));
    }

    #[test]
    fn anything_else_is_a_validation_error_naming_the_option() {
        let err = parse_when("since", "yesterday", now())
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "invalid since: \"yesterday\" is not a time: use 2025-06-01, 2025-06-01T10:00:00Z, or an age such as 30m, 12h, 7d, 2w"
            )
        );
    }

    #[test]
    fn history_statuses_default_to_the_tab_and_all_means_all() {
        assert_eq!(statuses(&[]).ok(), Some(Status::HISTORY.to_vec()));
        assert_eq!(statuses(&["all".into()]).ok(), Some(Status::ALL.to_vec()));
        let err = statuses(&["done".into()]).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("invalid status: unknown status \"done\"")
        );
    }
}
