//! Canonical JSON written straight from `Serialize`, without building a
//! `serde_json::Value` first.
//!
//! The canonical form is the one [`crate::audit::canonical_json`] defines:
//! object keys sorted at every depth, no white space, strings and numbers
//! as serde_json writes them. Digests of actions are taken on every
//! transition, so the form is written by a serializer of its own: each
//! object's members are written to a small buffer, sorted by key and
//! copied out, which costs a fraction of a `Value` tree (an allocation per
//! key, per string and per map node, then a second walk to print it).
//!
//! A [`Prune`] rule leaves named members out on the way (the lease
//! deadline and `updated_at`, which an action's digest does not cover).

use std::borrow::Cow;
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
/// `prune` names.
pub(crate) fn write<T: Serialize + ?Sized>(value: &T, prune: Prune, out: &mut Vec<u8>) -> Res {
    value.serialize(Canon { out, prune })
}

/// Writes a scalar as serde_json does.
fn scalar<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Res {
    serde_json::to_writer(out, value).map_err(|e| Unrepresentable(e.to_string()))
}

struct Canon<'a> {
    out: &'a mut Vec<u8>,
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
        write(value, Prune::None, self.out)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Res<List<'a>> {
        self.out.push(b'[');
        Ok(List {
            out: self.out,
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
            prune: Prune::None,
            first: true,
        }))
    }
    fn serialize_map(self, len: Option<usize>) -> Res<Object<'a>> {
        Ok(Object::new(self.out, self.prune, len.unwrap_or(8)))
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Res<Object<'a>> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        len: usize,
    ) -> Res<Wrapped<Object<'a>>> {
        self.out.push(b'{');
        scalar(self.out, variant)?;
        self.out.push(b':');
        Ok(Wrapped(Object::new(self.out, Prune::None, len)))
    }
}

struct List<'a> {
    out: &'a mut Vec<u8>,
    prune: Prune,
    first: bool,
}

impl List<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write(value, self.prune, self.out)
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

/// The members of one object, sorted at the end: each key with the span
/// of `text` its value was written to (one buffer per object, not one per
/// member).
struct Object<'a> {
    out: &'a mut Vec<u8>,
    prune: Prune,
    text: Vec<u8>,
    members: Vec<(Cow<'static, str>, Range<usize>)>,
    /// The key given by `serialize_key`, until its value comes.
    key: Option<String>,
}

impl<'a> Object<'a> {
    fn new(out: &'a mut Vec<u8>, prune: Prune, len: usize) -> Object<'a> {
        Object {
            out,
            prune,
            text: Vec::with_capacity(64 * len),
            members: Vec::with_capacity(len),
            key: None,
        }
    }

    fn member<T: Serialize + ?Sized>(&mut self, key: Cow<'static, str>, value: &T) -> Res {
        if self.prune.drops(&key) {
            return Ok(());
        }
        let start = self.text.len();
        write(value, self.prune.member(&key), &mut self.text)?;
        self.members.push((key, start..self.text.len()));
        Ok(())
    }

    fn close(mut self) -> Res<&'a mut Vec<u8>> {
        if !self.members.is_sorted_by(|a, b| a.0 < b.0) {
            // Stable, so that of two members of the same name the one
            // written later comes last, and wins below.
            self.members.sort_by(|a, b| a.0.cmp(&b.0));
        }
        self.out.push(b'{');
        let mut first = true;
        for (i, (key, span)) in self.members.iter().enumerate() {
            // A later member of the same name replaces an earlier one, as
            // in a map (a flattened field can repeat a declared one).
            if self.members.get(i + 1).is_some_and(|next| next.0 == *key) {
                continue;
            }
            if !first {
                self.out.push(b',');
            }
            first = false;
            scalar(self.out, key.as_ref())?;
            self.out.push(b':');
            self.out.extend_from_slice(&self.text[span.clone()]);
        }
        self.out.push(b'}');
        Ok(self.out)
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Unrepresentable;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Res {
        self.key = Some(key.serialize(Key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Res {
        let key = self
            .key
            .take()
            .ok_or_else(|| Unrepresentable("a map value without its key".into()))?;
        self.member(Cow::Owned(key), value)
    }
    fn end(self) -> Res {
        self.close().map(|_| ())
    }
}

impl ser::SerializeStruct for Object<'_> {
    type Ok = ();
    type Error = Unrepresentable;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Res {
        self.member(Cow::Borrowed(key), value)
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
        self.0.member(Cow::Borrowed(key), value)
    }
    fn end(self) -> Res {
        // The inner object, then the variant's brace.
        self.0.close()?.push(b'}');
        Ok(())
    }
}

/// A map key as a string, as serde_json takes it: strings as they are,
/// numbers and booleans as their text.
struct Key;

impl ser::Serializer for Key {
    type Ok = String;
    type Error = Unrepresentable;
    type SerializeSeq = Impossible<String, Unrepresentable>;
    type SerializeTuple = Impossible<String, Unrepresentable>;
    type SerializeTupleStruct = Impossible<String, Unrepresentable>;
    type SerializeTupleVariant = Impossible<String, Unrepresentable>;
    type SerializeMap = Impossible<String, Unrepresentable>;
    type SerializeStruct = Impossible<String, Unrepresentable>;
    type SerializeStructVariant = Impossible<String, Unrepresentable>;

    fn serialize_bool(self, v: bool) -> Res<String> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Res<String> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Res<String> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Res<String> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Res<String> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Res<String> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Res<String> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Res<String> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Res<String> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, _v: f32) -> Res<String> {
        Err(key_must_be_a_string())
    }
    fn serialize_f64(self, _v: f64) -> Res<String> {
        Err(key_must_be_a_string())
    }
    fn serialize_char(self, v: char) -> Res<String> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Res<String> {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Res<String> {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> Res<String> {
        Err(key_must_be_a_string())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Res<String> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit(self) -> Res<String> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Res<String> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_variant(
        self,
        _n: &'static str,
        _i: u32,
        variant: &'static str,
    ) -> Res<String> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _n: &'static str,
        value: &T,
    ) -> Res<String> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _value: &T,
    ) -> Res<String> {
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

    use super::{Prune, write};
    use crate::audit::canonical_json;

    fn canonical<T: Serialize>(value: &T) -> String {
        let mut out = Vec::new();
        write(value, Prune::None, &mut out).expect("canonical");
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
}
