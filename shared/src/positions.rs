//! Fractional position keys for lists in a user-chosen order (tasks, columns, cards).
//!
//! A position is a string that sorts (byte-wise, as DynamoDB sorts keys) between its two
//! neighbours, so moving an item rewrites that item alone and concurrent moves never
//! renumber the list. This is the fractional-indexing algorithm (as published by rocicorp,
//! after Evan Wallace's article), base 62: an integer part whose first character encodes
//! its length (`a0`, `a1` ... `az`, `b00` ...; `Zz`, `Zy` ... going down) and a fractional
//! part with no trailing `0`, so there is always room between two keys.
//!
//! Growth: appending after the last item or before the first grows the integer part by one
//! character per factor of 62 (a list rotated a million times holds keys of 5 characters);
//! moving an item back to the same gap gives a key of the same length every time (the
//! midpoint of the same two neighbours), so repeated moves to one spot never grow a key;
//! only squeezing ever more items into one gap (always right after the same item) grows
//! the new keys, by one character per about six such inserts. [`between`] adds two random
//! characters ([`jittered`]) so that two concurrent moves into the same gap rarely get the
//! same key; equal keys are still a total order, because every list sorts by position then
//! id.

use std::cmp::Ordering;

/// The 62 digits, in byte order.
const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ZERO: u8 = b'0';
const LAST_DIGIT: u8 = b'z';
/// The smallest integer part (`A` then 26 zeros), which nothing may go below.
const SMALLEST_INTEGER: &str = "A00000000000000000000000000";
/// Random characters [`jittered`] appends.
pub const JITTER_CHARS: usize = 2;
/// The longest position a list accepts (a longer one is refused with 409): well above what
/// the algorithm produces in practice (see the module docs), and well inside DynamoDB's
/// 1 KiB limit on a sort key (positions are part of GSI1 sort keys).
pub const POSITION_MAX: usize = 256;

/// A position key could not be made: the neighbours are out of order or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid position: {0}")]
pub struct PositionError(&'static str);

fn digit_value(digit: u8) -> Option<usize> {
    DIGITS.iter().position(|d| *d == digit)
}

fn integer_length(head: u8) -> Option<usize> {
    match head {
        b'a'..=b'z' => Some(usize::from(head - b'a') + 2),
        b'A'..=b'Z' => Some(usize::from(b'Z' - head) + 2),
        _ => None,
    }
}

/// Splits a key into its integer and fractional parts, checking it is well formed.
fn split(key: &str) -> Result<(&str, &str), PositionError> {
    let bytes = key.as_bytes();
    let head = *bytes.first().ok_or(PositionError("empty key"))?;
    let length = integer_length(head).ok_or(PositionError("bad head"))?;
    if bytes.len() < length || key == SMALLEST_INTEGER {
        return Err(PositionError("bad integer part"));
    }
    if bytes.iter().any(|b| digit_value(*b).is_none()) {
        return Err(PositionError("bad digit"));
    }
    let (integer, fraction) = key.split_at(length);
    if fraction.as_bytes().last() == Some(&ZERO) {
        return Err(PositionError("trailing zero"));
    }
    Ok((integer, fraction))
}

/// Whether `key` is a well-formed position.
pub fn is_valid(key: &str) -> bool {
    key.len() <= POSITION_MAX && split(key).is_ok()
}

/// A fraction strictly between `a` and `b` (`None`: no upper bound). Neither ends in `0`.
fn midpoint(a: &[u8], b: Option<&[u8]>) -> Result<Vec<u8>, PositionError> {
    if let Some(b) = b {
        if a >= b {
            return Err(PositionError("neighbours out of order"));
        }
        // The common prefix (with `a` padded by zeros) stays as it is.
        let mut n = 0;
        while n < b.len() && a.get(n).copied().unwrap_or(ZERO) == b[n] {
            n += 1;
        }
        if n > 0 {
            let mut out = b[..n].to_vec();
            let rest_a = a.get(n..).unwrap_or_default();
            out.extend(midpoint(rest_a, Some(&b[n..]))?);
            return Ok(out);
        }
    }
    let digit_a = match a.first() {
        Some(d) => digit_value(*d).ok_or(PositionError("bad digit"))?,
        None => 0,
    };
    let digit_b = match b {
        Some(b) => digit_value(*b.first().ok_or(PositionError("empty bound"))?)
            .ok_or(PositionError("bad digit"))?,
        None => DIGITS.len(),
    };
    if digit_b.saturating_sub(digit_a) > 1 {
        let middle = (digit_a + digit_b).div_ceil(2);
        return Ok(vec![DIGITS[middle]]);
    }
    match b {
        Some(b) if b.len() > 1 => Ok(vec![b[0]]),
        _ => {
            let mut out = vec![DIGITS[digit_a]];
            out.extend(midpoint(a.get(1..).unwrap_or_default(), None)?);
            Ok(out)
        }
    }
}

fn increment_integer(integer: &str) -> Option<String> {
    let mut bytes = integer.as_bytes().to_vec();
    let head = bytes[0];
    for index in (1..bytes.len()).rev() {
        let next = digit_value(bytes[index])? + 1;
        if next < DIGITS.len() {
            bytes[index] = DIGITS[next];
            return String::from_utf8(bytes).ok();
        }
        bytes[index] = ZERO;
    }
    // Every digit carried: the integer part grows (or shrinks, below `a`) by one.
    let mut digits = bytes.split_off(1);
    let new_head = match head {
        b'Z' => return Some("a0".to_owned()),
        b'z' => return None,
        _ => head + 1,
    };
    if new_head > b'a' {
        digits.push(ZERO);
    } else {
        digits.pop();
    }
    let mut out = vec![new_head];
    out.extend(digits);
    String::from_utf8(out).ok()
}

fn decrement_integer(integer: &str) -> Option<String> {
    let mut bytes = integer.as_bytes().to_vec();
    let head = bytes[0];
    for index in (1..bytes.len()).rev() {
        let value = digit_value(bytes[index])?;
        if value > 0 {
            bytes[index] = DIGITS[value - 1];
            return String::from_utf8(bytes).ok();
        }
        bytes[index] = LAST_DIGIT;
    }
    let mut digits = bytes.split_off(1);
    let new_head = match head {
        b'a' => return Some("Zz".to_owned()),
        b'A' => return None,
        _ => head - 1,
    };
    if new_head < b'Z' {
        digits.push(LAST_DIGIT);
    } else {
        digits.pop();
    }
    let mut out = vec![new_head];
    out.extend(digits);
    String::from_utf8(out).ok()
}

fn joined(integer: &str, fraction: Vec<u8>) -> Result<String, PositionError> {
    let mut out = integer.as_bytes().to_vec();
    out.extend(fraction);
    String::from_utf8(out).map_err(|_| PositionError("bad digit"))
}

/// The shortest-ish key strictly between `a` and `b` (either may be open). Deterministic:
/// the same neighbours always give the same key.
pub fn key_between(a: Option<&str>, b: Option<&str>) -> Result<String, PositionError> {
    let parts_a = a.map(split).transpose()?;
    let parts_b = b.map(split).transpose()?;
    if let (Some(a), Some(b)) = (a, b)
        && a >= b
    {
        return Err(PositionError("neighbours out of order"));
    }
    match (parts_a, parts_b) {
        (None, None) => Ok("a0".to_owned()),
        (None, Some((integer_b, fraction_b))) => {
            if integer_b == SMALLEST_INTEGER {
                return joined(integer_b, midpoint(b"", Some(fraction_b.as_bytes()))?);
            }
            if !fraction_b.is_empty() {
                return Ok(integer_b.to_owned());
            }
            decrement_integer(integer_b).ok_or(PositionError("no key below the first"))
        }
        (Some((integer_a, fraction_a)), None) => match increment_integer(integer_a) {
            Some(next) => Ok(next),
            None => joined(integer_a, midpoint(fraction_a.as_bytes(), None)?),
        },
        (Some((integer_a, fraction_a)), Some((integer_b, fraction_b))) => {
            if integer_a == integer_b {
                return joined(
                    integer_a,
                    midpoint(fraction_a.as_bytes(), Some(fraction_b.as_bytes()))?,
                );
            }
            let next = increment_integer(integer_a).ok_or(PositionError("no key above"))?;
            if b.is_some_and(|b| next.as_str() < b) {
                Ok(next)
            } else {
                joined(integer_a, midpoint(fraction_a.as_bytes(), None)?)
            }
        }
    }
}

/// `key` with `random` digits appended, if that still sorts below `upper` (appending can
/// only move a key up, past `upper` only when `key` is a prefix of it). The appended
/// digits never end in `0`, so the result is a valid key.
pub fn jittered(key: &str, upper: Option<&str>, random: [u8; JITTER_CHARS]) -> String {
    let mut out = key.to_owned();
    for (index, byte) in random.iter().enumerate() {
        let last = index + 1 == JITTER_CHARS;
        let digit = if last {
            DIGITS[1 + usize::from(*byte) % (DIGITS.len() - 1)]
        } else {
            DIGITS[usize::from(*byte) % DIGITS.len()]
        };
        out.push(char::from(digit));
    }
    match upper {
        Some(upper) if out.as_str().cmp(upper) != Ordering::Less => key.to_owned(),
        _ => out,
    }
}

/// A key strictly between two neighbours, with random digits so that concurrent moves into
/// one gap rarely tie.
pub fn between(a: Option<&str>, b: Option<&str>) -> Result<String, PositionError> {
    let key = key_between(a, b)?;
    let mut random = [0u8; JITTER_CHARS];
    if getrandom::fill(&mut random).is_err() {
        return Ok(key);
    }
    Ok(jittered(&key, b, random))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_keys() {
        assert_eq!(key_between(None, None).unwrap(), "a0");
        assert_eq!(key_between(Some("a0"), None).unwrap(), "a1");
        assert_eq!(key_between(Some("a1"), None).unwrap(), "a2");
        assert_eq!(key_between(None, Some("a0")).unwrap(), "Zz");
        assert_eq!(key_between(Some("a0"), Some("a1")).unwrap(), "a0V");
        assert_eq!(key_between(Some("a1"), Some("a2")).unwrap(), "a1V");
        assert_eq!(key_between(Some("a0V"), Some("a1")).unwrap(), "a0l");
        assert_eq!(key_between(Some("Zz"), Some("a0")).unwrap(), "ZzV");
        assert_eq!(key_between(Some("Zz"), Some("a1")).unwrap(), "a0");
        assert_eq!(key_between(None, Some("Y00")).unwrap(), "Xzzz");
        assert_eq!(key_between(Some("bzz"), None).unwrap(), "c000");
        assert_eq!(key_between(Some("a0"), Some("a0V")).unwrap(), "a0G");
        assert_eq!(key_between(Some("a0"), Some("a0G")).unwrap(), "a08");
        assert_eq!(key_between(Some("b125"), Some("b129")).unwrap(), "b127");
        assert_eq!(key_between(Some("a0"), Some("a1V")).unwrap(), "a1");
        assert_eq!(key_between(Some("Zz"), Some("a01")).unwrap(), "a0");
        assert_eq!(key_between(None, Some("a0V")).unwrap(), "a0");
        assert_eq!(key_between(None, Some("b999")).unwrap(), "b99");
        assert!(key_between(Some("a1"), Some("a0")).is_err());
        assert!(key_between(Some("a0"), Some("a0")).is_err());
        assert!(key_between(Some("a00"), None).is_err());
        assert!(key_between(Some("a"), None).is_err());
        assert!(key_between(Some("a0#"), None).is_err());
        assert!(key_between(None, Some(SMALLEST_INTEGER)).is_err());
    }

    #[test]
    fn jitter_stays_below_a_prefix_neighbour() {
        // "a1" is a prefix of "a1V": appending could pass it, so the key stays bare.
        let key = key_between(Some("a0"), Some("a1V")).unwrap();
        assert_eq!(jittered(&key, Some("a1V"), [61, 61]), "a1");
        assert_eq!(jittered(&key, Some("a1V"), [0, 0]), "a101");
        assert!(is_valid(&jittered("a0", None, [0, 0])));
    }

    #[test]
    fn repeated_moves_to_one_spot_do_not_grow() {
        let (a, b) = ("a3", "a4");
        let lengths: std::collections::HashSet<usize> = (0..1000)
            .map(|_| between(Some(a), Some(b)).unwrap().len())
            .collect();
        assert!(lengths.iter().all(|len| *len <= 2 + 1 + JITTER_CHARS));
    }

    #[test]
    fn rotating_to_the_end_grows_logarithmically() {
        let mut last = between(None, None).unwrap();
        for _ in 0..100_000 {
            last = key_between(Some(&last), None).unwrap();
        }
        assert!(last.len() <= 5, "{last}");
    }

    /// A model list: inserting at random gaps keeps every key valid, strictly between its
    /// neighbours, and the list sorted.
    fn apply(ops: &[(usize, [u8; 2])]) -> Vec<String> {
        let mut list: Vec<String> = Vec::new();
        for (slot, random) in ops {
            let at = if list.is_empty() {
                0
            } else {
                slot % (list.len() + 1)
            };
            let before = at.checked_sub(1).map(|i| list[i].as_str());
            let after = list.get(at).map(String::as_str);
            let key = jittered(&key_between(before, after).unwrap(), after, *random);
            assert!(is_valid(&key), "{key}");
            assert!(
                before.is_none_or(|b| b < key.as_str()),
                "{before:?} < {key}"
            );
            assert!(after.is_none_or(|a| key.as_str() < a), "{key} < {after:?}");
            list.insert(at, key);
        }
        list
    }

    proptest! {
        #[test]
        fn inserts_keep_the_list_sorted(ops in proptest::collection::vec((0usize..1000, any::<[u8; 2]>()), 1..300)) {
            let list = apply(&ops);
            let mut sorted = list.clone();
            sorted.sort();
            prop_assert_eq!(list, sorted);
        }

        #[test]
        fn keys_between_any_two_valid_keys(a in "[a-c][0-9A-Za-z]{1,3}[1-9A-Za-z]", b in "[a-c][0-9A-Za-z]{1,3}[1-9A-Za-z]") {
            let (low, high) = if a < b { (a, b) } else { (b, a) };
            prop_assume!(low != high && is_valid(&low) && is_valid(&high));
            let key = key_between(Some(&low), Some(&high)).unwrap();
            prop_assert!(is_valid(&key));
            prop_assert!(low < key && key < high, "{} < {} < {}", low, key, high);
        }

        #[test]
        fn squeezing_one_gap_grows_slowly(count in 1usize..400) {
            // Always insert right after the first item: the worst case for growth.
            let mut list = vec!["a0".to_owned(), "a1".to_owned()];
            for _ in 0..count {
                let key = key_between(Some(&list[0]), Some(&list[1])).unwrap();
                list.insert(1, key);
            }
            prop_assert!(list[1].len() <= 3 + count / 5);
        }
    }
}
