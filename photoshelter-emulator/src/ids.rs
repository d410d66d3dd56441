//! Identifier formats: 16 characters, a 5-character type prefix and 11 characters of
//! `[A-Za-z0-9._]` (wire-format.md § 4).

use rand::RngExt;

/// The characters PhotoShelter uses after the prefix; dots and underscores occur in real ids.
const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";

/// The type prefix of an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Image,
    Gallery,
    Collection,
    Organization,
    User,
}

impl Kind {
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Kind::Image => "I0000",
            Kind::Gallery => "G0000",
            Kind::Collection => "C0000",
            Kind::Organization => "O0000",
            Kind::User => "U0000",
        }
    }

    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Gallery => "gallery",
            Kind::Collection => "collection",
            Kind::Organization => "organization",
            Kind::User => "user",
        }
    }
}

/// A fresh random id of the given kind.
pub(crate) fn new_id(kind: Kind) -> String {
    let mut rng = rand::rng();
    let mut id = String::with_capacity(16);
    id.push_str(kind.prefix());
    for _ in 0..11 {
        let i = rng.random_range(0..ID_ALPHABET.len());
        // ok: `i` is drawn from 0..len, so the index is in bounds.
        id.push(char::from(ID_ALPHABET[i]));
    }
    id
}

/// A random string of `len` ASCII letters and digits (tokens, API keys).
pub(crate) fn random_alnum(len: usize) -> String {
    let mut rng = rand::rng();
    let alnum = &ID_ALPHABET[..62];
    (0..len)
        .map(|_| char::from(alnum[rng.random_range(0..alnum.len())]))
        .collect()
}

/// True when `id` is a well-formed id of `kind`.
pub(crate) fn is_valid(id: &str, kind: Kind) -> bool {
    id.len() == 16
        && id.starts_with(kind.prefix())
        && id.bytes().skip(5).all(|b| ID_ALPHABET.contains(&b))
}

/// True when `key` has the shape of an API key: 11 characters of `[A-Za-z0-9._]`.
pub(crate) fn is_api_key_shape(key: &str) -> bool {
    key.len() == 11 && key.bytes().all(|b| ID_ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let a = new_id(Kind::Image);
        let b = new_id(Kind::Image);
        assert!(is_valid(&a, Kind::Image), "{a}");
        assert_ne!(a, b);
        assert!(!is_valid(&a, Kind::Gallery));
    }

    #[test]
    fn rejects_malformed_ids() {
        assert!(is_valid("G0000ab.c_DEF123", Kind::Gallery));
        assert!(!is_valid("G0000ab.c_DEF12", Kind::Gallery), "15 chars");
        assert!(!is_valid("G0000ab.c_DEF1234", Kind::Gallery), "17 chars");
        assert!(!is_valid("G0000ab-c_DEF123", Kind::Gallery), "dash");
        assert!(!is_valid("root", Kind::Collection));
        assert!(!is_valid("G0000ab.c_DEF1é", Kind::Gallery));
    }

    #[test]
    fn api_key_shape() {
        assert!(is_api_key_shape("Ab3._xyz012"));
        assert!(!is_api_key_shape("short"));
        assert!(!is_api_key_shape("Ab3._xyz01!"));
        assert_eq!(random_alnum(20).len(), 20);
    }
}
