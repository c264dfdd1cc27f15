//! Canonical JSON written straight from `Serialize`, without building a
//! `serde_json::Value` first.
//!
//! The canonical form is the one [`crate::audit::canonical_json`] defines:
//! object keys sorted at every depth, no white space, strings and numbers
//! as serde_json writes them. Digests of actions are taken on every
//! transition, so the form is written by a serializer of its own, into
//! the output in one pass: each object's members are written where they
//! stand, in the order `Serialize` gives them, and an object whose keys
//! were not already in order is sorted when it closes (its text copied
//! aside once, then written back member by member). The members of the
//! objects still open, the map keys among them and that copy live in one
//! [`Stack`] for the whole value, so an object costs no allocation of its
//! own.
//!
//! A [`Prune`] rule leaves named members out on the way (the lease
//! deadline and `updated_at`, which an action's digest does not cover).

use std::fmt::Write as _;
use std::ops::Range;

use serde::ser::{self, Impossible, Serialize};

/// Members left out while writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prune {
    /// Nothing.
    None,
    /// An action: `updated_at`, and the lease deadline of each attempt.
    Action,
    /// The list of an action's attempts.
    Attempts,
    /// One attempt: `lease_until`.
    Attempt,
}

impl Prune {
    fn drops(self, key: &str) -> bool {
        match self {
            Prune::Action => key == "updated_at",
            Prune::Attempt => key == "lease_until",
            Prune::None | Prune::Attempts => false,
        }
    }

    /// The rule for the value of member `key` of an object under `self`.
    fn member(self, key: &str) -> Prune {
        match (self, key) {
            (Prune::Action, "attempts") => Prune::Attempts,
            _ => Prune::None,
        }
    }

    /// The rule for the items of a list under `self`.
    fn item(self) -> Prune {
        match self {
            Prune::Attempts => Prune::Attempt,
            _ => Prune::None,
        }
    }
}

/// Why a value has no canonical form (a map key that is not a string or
/// a number, a number serde_json cannot write).
#[derive(Debug)]
pub(crate) struct Unrepresentable(String);

impl std::fmt::Display for Unrepresentable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unrepresentable {}

impl ser::Error for Unrepresentable {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Unrepresentable(msg.to_string())
    }
}

type Res<T = ()> = std::result::Result<T, Unrepresentable>;

/// Appends the canonical JSON of `value` to `out`, leaving out what
/// `prune` names. On an error, `out` holds a partial text.
#[cfg(test)]
pub(crate) fn write<T: Serialize + ?Sized>(value: &T, prune: Prune, out: &mut Vec<u8>) -> Res {
    let mut stack = Stack::new();
    write_with(value, prune, out, &mut stack)
}

fn write_with<T: Serialize + ?Sized>(
    value: &T,
    prune: Prune,
    out: &mut Vec<u8>,
    stack: &mut Stack,
) -> Res {
    stack.clear();
    value.serialize(Canon { out, stack, prune })
}

/// Calls `f` with `prefix` followed by the canonical JSON of `value`
/// (leaving out what `prune` names), written in this thread's scratch
/// memory: digests are taken on every transition, and a text and a stack
/// allocated for each one cost more than writing it (glibc consolidates
/// its free lists on every allocation of a kilobyte or more).
pub(crate) fn with_text<T: Serialize + ?Sized, R>(
    value: &T,
    prune: Prune,
    prefix: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Res<R> {
    // Taken out of the thread's cell while in use: a digest taken while
    // another is written (by `f`), or while the thread's locals are being
    // destroyed, finds none and uses fresh memory.
    let (mut text, mut stack) = SCRATCH
        .try_with(std::cell::Cell::take)
        .ok()
        .flatten()
        .unwrap_or_else(|| (Vec::with_capacity(4096), Stack::new()));
    text.clear();
    text.extend_from_slice(prefix);
    let answer = write_with(value, prune, &mut text, &mut stack).map(|()| f(&text));
    // What one very large value grew is not kept for the next.
    if text.capacity() <= SCRATCH_KEPT && stack.capacity() <= SCRATCH_KEPT {
        let _gone = SCRATCH.try_with(|cell| cell.set(Some((text, stack))));
    }
    answer
}

thread_local! {
    /// A thread's text and stack for [`with_text`].
    static SCRATCH: std::cell::Cell<Option<(Vec<u8>, Stack)>> =
        const { std::cell::Cell::new(None) };
}

/// The most scratch memory [`with_text`] keeps for a thread.
const SCRATCH_KEPT: usize = 64 * 1024;

/// Writes a scalar as serde_json does.
fn scalar<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Res {
    serde_json::to_writer(out, value).map_err(|e| Unrepresentable(e.to_string()))
}

/// The working memory of one [`write`], shared by every object in it.
/// Objects close in the reverse order they open, so their members form a
/// stack: an inner object's sit above its parent's and are gone when it
/// closes.
struct Stack {
    /// The members of the objects still open.
    members: Vec<Member>,
    /// The text of the map keys among them (a struct's are `'static`).
    keys: String,
    /// An object's text while it is put in order.
    aside: Vec<u8>,
    /// A value written with `Display` (a time), before it is quoted.
    shown: String,
}

impl Stack {
    /// Room for an action's members, the keys of its maps, its text and
    /// a time; it grows if a value needs more.
    fn new() -> Stack {
        Stack {
            members: Vec::with_capacity(32),
            keys: String::with_capacity(128),
            aside: Vec::with_capacity(4096),
            shown: String::with_capacity(32),
        }
    }

    /// The memory it holds, in bytes.
    fn capacity(&self) -> usize {
        self.members.capacity() * std::mem::size_of::<Member>()
            + self.keys.capacity()
            + self.aside.capacity()
            + self.shown.capacity()
    }

    fn clear(&mut self) {
        self.members.clear();
        self.keys.clear();
        self.aside.clear();
        self.shown.clear();
    }
}

/// One member written to the output: its key and the span of the output
/// that holds `"key":value`.
struct Member {
    /// The key's first eight bytes, big-endian, zero-padded: compared
    /// first, so that most comparisons of a sort are one of integers.
    head: u64,
    key: Name,
    span: Range<usize>,
}

impl Member {
    /// The order of keys, as `str`'s: by bytes.
    fn order(&self, other: &Member, keys: &str) -> std::cmp::Ordering {
        // A shorter head is padded with zeros, which sort first: where two
        // heads differ, they differ as the keys do; where they are equal,
        // the keys decide.
        self.head
            .cmp(&other.head)
            .then_with(|| self.key.text(keys).cmp(other.key.text(keys)))
    }
}

/// The first eight bytes of `key` as a big-endian number, zero-padded.
fn head(key: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = key.len().min(8);
    bytes[..n].copy_from_slice(&key.as_bytes()[..n]);
    u64::from_be_bytes(bytes)
}

/// A member's key: a struct field's name, or the span of [`Stack::keys`]
/// that holds a map key.
#[derive(Clone)]
enum Name {
    Field(&'static str),
    Map(Range<usize>),
}

impl Name {
    fn text<'k>(&self, keys: &'k str) -> &'k str {
        match self {
            Name::Field(name) => name,
            Name::Map(span) => &keys[span.clone()],
        }
    }
}

struct Canon<'a> {
    out: &'a mut Vec<u8>,
    stack: &'a mut Stack,
    prune: Prune,
}

impl<'a> ser::Serializer for Canon<'a> {
    type Ok = ();
    type Error = Unrepresentable;
    type SerializeSeq = List<'a>;
    type SerializeTuple = List<'a>;
    type SerializeTupleStruct = List<'a>;
    type SerializeTupleVariant = Wrapped<List<'a>>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Wrapped<Object<'a>>;

    fn serialize_bool(self, v: bool) -> Res {
        scalar(self.out, &v)
    }
    fn serialize_i8(self, v: i8) -> Res {
        scalar(self.out, &v)
    }
    fn serialize_i16(self, v: i16) -> Res {
        scalar(self.out, &v)
    }
    fn serialize_i32(self, v: i32) -> Res {
        scalar(self.out, &v)
    }
    fn serialize_i64(self, v: i64) -> Res {
        scalar(self.out, &v)
    }
    fn serialize_i128(self, v: i128) -> Res {
        // A `Value` holds only what fits 64 bits; so does the canonical form.
        match (i64::try_from(v), u64::try_from(v)) {
            (Ok(v), _) => scalar(self.out, &v),
            (_, Ok(v)) => scalar(self.out, &v),
            _ => Err(Unrepresentable("number out of range".into())),
        }
    }
    fn serialize_u8(self, v: u8) -> Res {
        scalar(self.out, &v)
    }
    fn serialize_u16(self, v: u16) -> Res {
        scalar(self.out, &v)
    }
    fn serialize_u32(self, v: u32) -> Res {
        scalar(self.out, &v)
    }
    fn serialize_u64(self, v: u64) -> Res {
        scalar(self.out, &v)
    }
    fn serialize_u128(self, v: u128) -> Res {
        let v = u64::try_from(v).map_err(|_| Unrepresentable("number out of range".into()))?;
        scalar(self.out, &v)
    }
    fn serialize_f32(self, v: f32) -> Res {
        // As `serde_json::to_value`: an f32 widens to f64.
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Res {
        scalar(self.out, &v)
    }
    fn serialize_char(self, v: char) -> Res {
        scalar(self.out, &v)
    }
    fn serialize_str(self, v: &str) -> Res {
        scalar(self.out, v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Res {
        scalar(self.out, v)
    }
    fn serialize_none(self) -> Res {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Res {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Res {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Res {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _name: &'static str, _i: u32, variant: &'static str) -> Res {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Res {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        value: &T,
    ) -> Res {
        // `{"variant": value}`: one member, already in order.
        self.out.push(b'{');
        scalar(self.out, variant)?;
        self.out.push(b':');
        value.serialize(Canon {
            out: &mut *self.out,
            stack: &mut *self.stack,
            prune: Prune::None,
        })?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Res<List<'a>> {
        self.out.push(b'[');
        Ok(List {
            out: self.out,
            stack: self.stack,
            prune: self.prune.item(),
            first: true,
        })
    }
    fn serialize_tuple(self, len: usize) -> Res<List<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Res<List<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Res<Wrapped<List<'a>>> {
        self.out.push(b'{');
        scalar(self.out, variant)?;
        self.out.extend_from_slice(b":[");
        Ok(Wrapped(List {
            out: self.out,
            stack: self.stack,
            prune: Prune::None,
            first: true,
        }))
    }
    fn serialize_map(self, _len: Option<usize>) -> Res<Object<'a>> {
        Ok(Object::open(self.out, self.stack, self.prune))
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Res<Object<'a>> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Res<Wrapped<Object<'a>>> {
        self.out.push(b'{');
        scalar(self.out, variant)?;
        self.out.push(b':');
        Ok(Wrapped(Object::open(self.out, self.stack, Prune::None)))
    }
    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> Res {
        // A time: shown into a buffer kept for it, then written as a
        // string (the default shows it into a new `String` each time).
        self.stack.shown.clear();
        write!(self.stack.shown, "{value}")
            .map_err(|_| Unrepresentable("a value failed to display".into()))?;
        scalar(self.out, self.stack.shown.as_str())
    }
}

struct List<'a> {
    out: &'a mut Vec<u8>,
    stack: &'a mut Stack,
    prune: Prune,
    first: bool,
}

impl List<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Canon {
            out: &mut *self.out,
            stack: &mut *self.stack,
            prune: self.prune,
        })
    }
    fn close(self) -> Res {
        self.out.push(b']');
        Ok(())
    }
}

impl ser::SerializeSeq for List<'_> {
    type Ok = ();
    type Error = Unrepresentable;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
        self.item(value)
    }
    fn end(self) -> Res {
        self.close()
    }
}

impl ser::SerializeTuple for List<'_> {
    type Ok = ();
    type Error = Unrepresentable;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
        self.item(value)
    }
    fn end(self) -> Res {
        self.close()
    }
}

impl ser::SerializeTupleStruct for List<'_> {
    type Ok = ();
    type Error = Unrepresentable;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
        self.item(value)
    }
    fn end(self) -> Res {
        self.close()
    }
}

/// One object being written: its members go to the output as they come,
/// and are put in key order when it closes if they were not already.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    stack: &'a mut Stack,
    prune: Prune,
    /// Where its first member starts in the output (after the `{`).
    start: usize,
    /// Where its members start in the stack, and its map keys.
    members: usize,
    keys: usize,
    /// The key given by `serialize_key`, until its value comes.
    key: Option<Range<usize>>,
}

impl<'a> Object<'a> {
    fn open(out: &'a mut Vec<u8>, stack: &'a mut Stack, prune: Prune) -> Object<'a> {
        out.push(b'{');
        Object {
            start: out.len(),
            members: stack.members.len(),
            keys: stack.keys.len(),
            out,
            stack,
            prune,
            key: None,
        }
    }

    fn member<T: Serialize + ?Sized>(&mut self, key: Name, value: &T) -> Res {
        let name = key.text(&self.stack.keys);
        if self.prune.drops(name) {
            return Ok(());
        }
        let rule = self.prune.member(name);
        if self.stack.members.len() > self.members {
            self.out.push(b',');
        }
        let from = self.out.len();
        scalar(self.out, name)?;
        self.out.push(b':');
        value.serialize(Canon {
            out: &mut *self.out,
            stack: &mut *self.stack,
            prune: rule,
        })?;
        let head = head(key.text(&self.stack.keys));
        self.stack.members.push(Member {
            head,
            key,
            span: from..self.out.len(),
        });
        Ok(())
    }

    fn close(self) -> Res<&'a mut Vec<u8>> {
        let Stack {
            members,
            keys,
            aside,
            ..
        } = &mut *self.stack;
        let mine = &mut members[self.members..];
        let keys = keys.as_str();
        // Strictly in order: no two members of the same name either.
        if !mine.is_sorted_by(|a, b| a.order(b, keys).is_lt()) {
            // Stable, so that of two members of the same name the one
            // written later comes last, and wins below.
            mine.sort_by(|a, b| a.order(b, keys));
            aside.clear();
            aside.extend_from_slice(&self.out[self.start..]);
            self.out.truncate(self.start);
            let mut first = true;
            for (i, member) in mine.iter().enumerate() {
                // A later member of the same name replaces an earlier one,
                // as in a map (a flattened field can repeat a declared one).
                if mine
                    .get(i + 1)
                    .is_some_and(|next| next.order(member, keys).is_eq())
                {
                    continue;
                }
                if !first {
                    self.out.push(b',');
                }
                first = false;
                let span = member.span.start - self.start..member.span.end - self.start;
                self.out.extend_from_slice(&aside[span]);
            }
        }
        members.truncate(self.members);
        self.stack.keys.truncate(self.keys);
        self.out.push(b'}');
        Ok(self.out)
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Unrepresentable;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Res {
        let from = self.stack.keys.len();
        key.serialize(Key(&mut self.stack.keys))?;
        self.key = Some(from..self.stack.keys.len());
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
        let key = self
            .key
            .take()
            .ok_or_else(|| Unrepresentable("a map value without its key".into()))?;
        self.member(Name::Map(key), value)
    }
    fn end(self) -> Res {
        self.close().map(|_| ())
    }
}

impl ser::SerializeStruct for Object<'_> {
    type Ok = ();
    type Error = Unrepresentable;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Res {
        self.member(Name::Field(key), value)
    }
    fn end(self) -> Res {
        self.close().map(|_| ())
    }
}

/// A variant's content, closed with the `}` its opening left.
struct Wrapped<S>(S);

impl ser::SerializeTupleVariant for Wrapped<List<'_>> {
    type Ok = ();
    type Error = Unrepresentable;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
        self.0.item(value)
    }
    fn end(self) -> Res {
        let out = self.0.out;
        out.extend_from_slice(b"]}");
        Ok(())
    }
}

impl ser::SerializeStructVariant for Wrapped<Object<'_>> {
    type Ok = ();
    type Error = Unrepresentable;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Res {
        self.0.member(Name::Field(key), value)
    }
    fn end(self) -> Res {
        // The inner object, then the variant's brace.
        self.0.close()?.push(b'}');
        Ok(())
    }
}

/// A map key as a string, as serde_json takes it: strings as they are,
/// numbers and booleans as their text; appended to the stack's keys.
struct Key<'k>(&'k mut String);

impl Key<'_> {
    fn show(self, v: impl std::fmt::Display) -> Res {
        write!(self.0, "{v}").map_err(|_| Unrepresentable("a key failed to display".into()))
    }
}

impl ser::Serializer for Key<'_> {
    type Ok = ();
    type Error = Unrepresentable;
    type SerializeSeq = Impossible<(), Unrepresentable>;
    type SerializeTuple = Impossible<(), Unrepresentable>;
    type SerializeTupleStruct = Impossible<(), Unrepresentable>;
    type SerializeTupleVariant = Impossible<(), Unrepresentable>;
    type SerializeMap = Impossible<(), Unrepresentable>;
    type SerializeStruct = Impossible<(), Unrepresentable>;
    type SerializeStructVariant = Impossible<(), Unrepresentable>;

    fn serialize_bool(self, v: bool) -> Res {
        self.show(v)
    }
    fn serialize_i8(self, v: i8) -> Res {
        self.show(v)
    }
    fn serialize_i16(self, v: i16) -> Res {
        self.show(v)
    }
    fn serialize_i32(self, v: i32) -> Res {
        self.show(v)
    }
    fn serialize_i64(self, v: i64) -> Res {
        self.show(v)
    }
    fn serialize_u8(self, v: u8) -> Res {
        self.show(v)
    }
    fn serialize_u16(self, v: u16) -> Res {
        self.show(v)
    }
    fn serialize_u32(self, v: u32) -> Res {
        self.show(v)
    }
    fn serialize_u64(self, v: u64) -> Res {
        self.show(v)
    }
    fn serialize_f32(self, _v: f32) -> Res {
        Err(key_must_be_a_string())
    }
    fn serialize_f64(self, _v: f64) -> Res {
        Err(key_must_be_a_string())
    }
    fn serialize_char(self, v: char) -> Res {
        self.show(v)
    }
    fn serialize_str(self, v: &str) -> Res {
        self.0.push_str(v);
        Ok(())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Res {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> Res {
        Err(key_must_be_a_string())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Res {
        Err(key_must_be_a_string())
    }
    fn serialize_unit(self) -> Res {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Res {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_variant(self, _n: &'static str, _i: u32, variant: &'static str) -> Res {
        self.0.push_str(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _n: &'static str, value: &T) -> Res {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _value: &T,
    ) -> Res {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Res<Self::SerializeSeq> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _len: usize) -> Res<Self::SerializeTuple> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(
        self,
        _n: &'static str,
        _len: usize,
    ) -> Res<Self::SerializeTupleStruct> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _len: usize,
    ) -> Res<Self::SerializeTupleVariant> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _len: Option<usize>) -> Res<Self::SerializeMap> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(self, _n: &'static str, _len: usize) -> Res<Self::SerializeStruct> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _len: usize,
    ) -> Res<Self::SerializeStructVariant> {
        Err(key_must_be_a_string())
    }
}

fn key_must_be_a_string() -> Unrepresentable {
    Unrepresentable("key must be a string".into())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde::Serialize;
    use serde_json::json;

    use super::{Prune, with_text, write};
    use crate::audit::canonical_json;

    /// Through this thread's scratch memory, as digests are taken; the
    /// same text as [`write`] into fresh memory.
    fn canonical<T: Serialize>(value: &T) -> String {
        let text = with_text(value, Prune::None, b"", |t| t.to_vec()).expect("canonical");
        let mut out = Vec::new();
        write(value, Prune::None, &mut out).expect("canonical");
        assert_eq!(text, out, "scratch and fresh memory agree");
        String::from_utf8(out).expect("utf-8")
    }

    /// The reference: through a `Value`, as `canonical_json` defines it.
    fn through_value<T: Serialize>(value: &T) -> String {
        canonical_json(&serde_json::to_value(value).expect("value"))
    }

    #[derive(Serialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Tagged {
        Device { name: String, id: u32 },
        File { sha: String, path: Option<String> },
    }

    #[derive(Serialize)]
    enum Shapes {
        Unit,
        Newtype(Vec<i64>),
        Tuple(u8, String),
        Record { z: bool, a: f64 },
    }

    #[derive(Serialize)]
    struct Outer {
        zeta: u64,
        alpha: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        gone: Option<u8>,
        middle: Vec<Tagged>,
        shapes: Vec<Shapes>,
        keys: HashMap<String, i32>,
        numbers: HashMap<u32, &'static str>,
        float: f64,
        not_a_number: f64,
        #[serde(flatten)]
        extra: serde_json::Map<String, serde_json::Value>,
    }

    /// A value shown with `Display`, as chrono's times are.
    struct Displayed(&'static str);

    impl Serialize for Displayed {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self.0)
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them_wherever_the_byte_falls() {
        // Every byte serde_json escapes, the nearest ones it does not, and
        // text that is not ASCII, at every place in strings of one to
        // forty bytes.
        let bytes = [
            "\"", "\\", "\u{0}", "\n", "\u{1f}", " ", "!", "#", "[", "]", "\u{7f}", "é",
        ];
        for len in 1..=40 {
            for at in 0..len {
                for b in bytes {
                    let text: String = (0..len).map(|i| if i == at { b } else { "a" }).collect();
                    assert_eq!(
                        canonical(&text),
                        serde_json::to_string(&text).unwrap(),
                        "{text:?}"
                    );
                    let key = json!({ text.clone(): 1 });
                    assert_eq!(canonical(&key), through_value(&key), "key {text:?}");
                }
            }
        }
        assert_eq!(canonical(&""), "\"\"");
        for shown in [
            "2026-12-06T00:00:00Z",
            "say \"hi\"",
            "a\\b",
            "line\nbreak",
            "🔒",
            "",
        ] {
            assert_eq!(
                canonical(&vec![Displayed(shown), Displayed("x")]),
                serde_json::to_string(&[shown, "x"]).unwrap(),
                "{shown:?}"
            );
        }
    }

    #[test]
    fn writes_what_a_value_tree_writes() {
        let mut extra = serde_json::Map::new();
        extra.insert(
            "beta".into(),
            json!({"y": [1, {"b": null, "a": "é"}], "x": 1.5}),
        );
        extra.insert("zeta".into(), json!("a later member of the same name wins"));
        extra.insert("\u{1b}[2J \"quoted\"".into(), json!(true));
        let value = Outer {
            zeta: u64::MAX,
            alpha: Some("tab\t, nul \u{0}, 🔒".into()),
            gone: None,
            middle: vec![
                Tagged::File {
                    sha: "ab".into(),
                    path: None,
                },
                Tagged::Device {
                    name: "dev".into(),
                    id: 7,
                },
            ],
            shapes: vec![
                Shapes::Unit,
                Shapes::Newtype(vec![-1, i64::MIN]),
                Shapes::Tuple(3, "t".into()),
                Shapes::Record { z: false, a: 0.1 },
            ],
            keys: (0..20).map(|i| (format!("k{}", 19 - i), i)).collect(),
            numbers: [(10, "ten"), (2, "two")].into(),
            float: -1.25e-300,
            not_a_number: f64::NAN,
            extra,
        };
        assert_eq!(canonical(&value), through_value(&value));
    }

    #[test]
    fn orders_keys_by_every_byte_not_only_the_first_eight() {
        // Keys that share their first eight bytes, a key that is another's
        // prefix, a NUL inside the first eight, keys past ASCII, maps in
        // maps (an inner object's members above its parent's).
        let keys = [
            "abcdefgh2",
            "abcdefgh",
            "abcdefgh10",
            "abcdefgh1",
            "ab\u{0}c",
            "ab",
            "ab\u{0}",
            "é",
            "e",
            "",
            "zz",
        ];
        let inner: serde_json::Map<String, serde_json::Value> = keys
            .iter()
            .rev()
            .map(|k| ((*k).to_owned(), json!(k)))
            .collect();
        let mut doc = serde_json::Map::new();
        for (i, k) in keys.iter().enumerate() {
            doc.insert(
                (*k).to_owned(),
                json!({ "n": i, "inner": inner, "z": [inner] }),
            );
        }
        let value: HashMap<String, serde_json::Value> = doc.into_iter().collect();
        assert_eq!(canonical(&value), through_value(&value));
    }

    #[test]
    fn refuses_what_has_no_canonical_form() {
        let mut out = Vec::new();
        let by_list: HashMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        let err = write(&by_list, Prune::None, &mut out).expect_err("a list as a key");
        assert_eq!(err.to_string(), "key must be a string");
        assert!(
            serde_json::to_value(&by_list).is_err(),
            "nor has it a Value"
        );
        assert!(write(&(u128::MAX,), Prune::None, &mut Vec::new()).is_err());
    }

    #[test]
    fn prunes_only_where_told() {
        let doc = json!({
            "updated_at": 1,
            "attempts": [{"lease_until": 2, "n": 1}, {"lease_until": 3}],
            "nested": {"updated_at": 4, "lease_until": 5},
        });
        let mut out = Vec::new();
        write(&doc, Prune::Action, &mut out).expect("canonical");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            r#"{"attempts":[{"n":1},{}],"nested":{"lease_until":5,"updated_at":4}}"#
        );
    }

    #[test]
    fn scratch_memory_keeps_nothing_of_the_last_text() {
        // A value refused half way leaves members, keys and text behind.
        #[derive(Serialize)]
        struct Half {
            z: serde_json::Value,
            y: u128,
        }
        let refused = Half {
            z: json!({"x": 1, "w": [1, 2]}),
            y: u128::MAX,
        };
        assert!(with_text(&refused, Prune::None, b"", |_| ()).is_err());
        super::SCRATCH.with(|cell| {
            let kept = cell.take();
            let (text, stack) = kept.as_ref().expect("kept");
            assert!(!text.is_empty() && !stack.members.is_empty(), "left behind");
            cell.set(kept);
        });
        let doc = json!({"b": 1, "a": {"d": 2, "c": 3}});
        let after = with_text(&doc, Prune::None, b"k\x1f", |t| t.to_vec()).expect("canonical");
        assert_eq!(after, b"k\x1f{\"a\":{\"c\":3,\"d\":2},\"b\":1}");
    }

    #[test]
    fn scratch_memory_serves_a_text_written_while_another_is_read() {
        let (outer, inner) = (json!({"b": 1, "a": 2}), json!({"d": 3, "c": 4}));
        let both = with_text(&outer, Prune::None, b"", |o| {
            let i = with_text(&inner, Prune::None, b"", |i| i.to_vec()).expect("inner");
            [o.to_vec(), i].concat()
        })
        .expect("outer");
        assert_eq!(both, br#"{"a":2,"b":1}{"c":4,"d":3}"#);
    }

    #[test]
    fn scratch_memory_lets_a_large_text_go() {
        let big = json!({"x": "y".repeat(super::SCRATCH_KEPT * 2)});
        let len = with_text(&big, Prune::None, b"", <[u8]>::len).expect("canonical");
        assert!(len > super::SCRATCH_KEPT * 2);
        super::SCRATCH.with(|cell| {
            let kept = cell.take();
            assert!(kept.is_none(), "not kept");
        });
        assert_eq!(canonical(&json!({"b": 1, "a": 2})), r#"{"a":2,"b":1}"#);
    }
}
