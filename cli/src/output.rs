//! How results look: aligned tables and sentences for people, JSON in the
//! library's schema for scripts, colour only on a terminal without
//! `NO_COLOR`.

use std::io::{IsTerminal, Write};

use actioncenter::chrono::{DateTime, Duration, Utc};
use actioncenter::{Action, ActionCenter, ActionId, Status};
use comfy_table::presets::NOTHING;
use comfy_table::{Attribute, Cell, Color, ColumnConstraint, ContentArrangement, Table};
use serde::Serialize;

/// Where and how a command prints.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub json: bool,
    /// Colour on standard output.
    pub color: bool,
}

/// Whether `NO_COLOR` asks for no colour (set and not empty, per no-color.org).
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Whether to colour standard error.
pub fn stderr_color() -> bool {
    std::io::stderr().is_terminal() && !no_color()
}

impl Out {
    pub fn new(json: bool) -> Out {
        Out {
            json,
            color: std::io::stdout().is_terminal() && !no_color(),
        }
    }

    /// Prints a document as pretty JSON. A failed write keeps its kind
    /// (`From` does), so a closed pipe ends the command as quietly as a
    /// table's would.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from)?;
        writeln!(out)
    }

    /// Prints one JSON value on one line (for streams).
    pub fn json_line<T: Serialize + ?Sized>(&self, value: &T) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, value).map_err(std::io::Error::from)?;
        writeln!(out)?;
        out.flush()
    }

    /// Prints a line of text.
    pub fn line(&self, text: impl std::fmt::Display) -> std::io::Result<()> {
        writeln!(std::io::stdout().lock(), "{text}")
    }

    /// Prints a table, its trailing spaces trimmed.
    pub fn table(&self, table: &Table) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        for line in table.lines() {
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }

    /// A borderless table with a header, two spaces between columns, as
    /// wide as the terminal (or unbounded when not on one).
    pub fn new_table<I, S>(&self, header: I) -> Table
    where
        I: IntoIterator<Item = S>,
        S: ToString,
    {
        let mut table = self.bare_table();
        table.set_header(
            header
                .into_iter()
                .map(|h| self.paint(Cell::new(h.to_string()), None, true))
                .collect::<Vec<_>>(),
        );
        self.space_columns(&mut table);
        table
    }

    /// A borderless table of `name  value` rows, for one record.
    pub fn record_table(&self) -> Table {
        self.bare_table()
    }

    fn bare_table(&self) -> Table {
        let mut table = Table::new();
        table.load_style(NOTHING);
        let width = table.width();
        if self.color {
            table.enforce_styling();
        }
        table.force_no_tty();
        // A terminal that reports no sensible width (0 under some
        // emulators) gets unbounded columns, as a pipe does.
        if let Some(w) = width.filter(|w| *w >= 40) {
            table
                .set_width(w)
                .set_content_arrangement(ContentArrangement::Dynamic);
        }
        table
    }

    /// Sets the spacing after the columns are known: none on the left,
    /// two spaces on the right.
    pub fn space_columns(&self, table: &mut Table) {
        for column in table.column_iter_mut() {
            column.set_padding((0, 2));
        }
    }

    /// Keeps these columns as wide as their content when the table must
    /// fit the terminal: only the others (entities, sources, comments) wrap.
    pub fn keep_whole(&self, table: &mut Table, columns: &[usize]) {
        for i in columns {
            if let Some(column) = table.column_mut(*i) {
                column.set_constraint(ColumnConstraint::ContentWidth);
            }
        }
    }

    /// A cell in `color` (if colouring) and bold if asked.
    pub fn paint(&self, cell: Cell, color: Option<Color>, bold: bool) -> Cell {
        if !self.color {
            return cell;
        }
        let cell = match color {
            Some(c) => cell.fg(c),
            None => cell,
        };
        if bold {
            cell.add_attribute(Attribute::Bold)
        } else {
            cell
        }
    }

    /// A cell naming a status, coloured by what it means.
    pub fn status_cell(&self, status: Status) -> Cell {
        self.paint(
            Cell::new(status.as_str()),
            Some(status_color(status)),
            false,
        )
    }

    /// `text` wrapped in the ANSI colour of `status`, when colouring.
    pub fn status_text(&self, status: Status) -> String {
        if self.color {
            let code = match status_color(status) {
                Color::Green => "32",
                Color::Red => "31",
                Color::Yellow => "33",
                Color::Cyan => "36",
                Color::Blue => "34",
                Color::Magenta => "35",
                _grey => "90",
            };
            format!("\x1b[{code}m{status}\x1b[0m")
        } else {
            status.to_string()
        }
    }
}

fn status_color(status: Status) -> Color {
    match status {
        Status::Pending => Color::Yellow,
        Status::Approved => Color::Cyan,
        Status::Running | Status::Undoing | Status::UndoRunning => Color::Blue,
        Status::Completed => Color::Green,
        Status::Failed | Status::UndoFailed => Color::Red,
        Status::Undone => Color::Magenta,
        Status::Rejected | Status::Expired | Status::Cancelled => Color::DarkGrey,
    }
}

/// A duration for people: `45s`, `12m`, `3h 05m`, `2d 4h`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (days, hours, mins) = (secs / 86_400, (secs % 86_400) / 3600, (secs % 3600) / 60);
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{mins}m")
    } else if days == 0 {
        format!("{hours}h {mins:02}m")
    } else {
        format!("{days}d {hours}h")
    }
}

/// How long ago `at` was: `3h 05m ago`.
pub fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if at > now {
        format!("in {}", human_duration(at - now))
    } else {
        format!("{} ago", human_duration(now - at))
    }
}

/// A time for people, in UTC to the second.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// When a pending action's approval window closes, from `now`:
/// `4d 2h`, or `overdue 3h` once it has closed but no sweep has run.
pub fn expires_in(action: &Action, now: DateTime<Utc>) -> String {
    match action.expires_at {
        None => "-".to_owned(),
        Some(at) if at > now => human_duration(at - now),
        Some(at) => format!("overdue {}", human_duration(now - at)),
    }
}

/// The library's short id of `id`: the shortest prefix of 8 or more
/// characters that names it alone, like git's abbreviated hashes. Falls
/// back to the whole id should the library not find it.
pub fn short_id(center: &ActionCenter, id: ActionId) -> String {
    center
        .short_ids(&[id])
        .ok()
        .and_then(|ids| ids.into_iter().next())
        .unwrap_or_else(|| id.to_string())
}

/// Short ids for many actions, computed once each.
#[derive(Debug)]
pub struct ShortIds<'a> {
    center: &'a ActionCenter,
    known: std::collections::HashMap<ActionId, String>,
}

impl<'a> ShortIds<'a> {
    pub fn new(center: &'a ActionCenter) -> ShortIds<'a> {
        ShortIds {
            center,
            known: std::collections::HashMap::new(),
        }
    }

    pub fn of(&mut self, id: ActionId) -> String {
        self.known
            .entry(id)
            .or_insert_with(|| short_id(self.center, id))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(human_duration(Duration::seconds(45)), "45s");
        assert_eq!(human_duration(Duration::minutes(12)), "12m");
        assert_eq!(human_duration(Duration::minutes(185)), "3h 05m");
        assert_eq!(human_duration(Duration::hours(52)), "2d 4h");
        assert_eq!(human_duration(Duration::seconds(-5)), "0s");
    }
}
