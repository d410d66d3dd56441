use serde::{Deserialize, Serialize};

use crate::decode::{opt_bool, opt_num, opt_string};
use crate::id::{OrganizationId, UserId};
use crate::models::Extra;

/// The current session (`GET mem/user/session`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Session {
    /// The logged-in user.
    #[serde(default)]
    pub user_id: Option<UserId>,
    /// The user's e-mail address.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub email: Option<String>,
    /// The account time zone; timestamps such as `uploaded_at` are in this zone.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub tz: Option<String>,
    /// The organisation the session acts for, if one was entered.
    #[serde(default)]
    pub organization_id: Option<OrganizationId>,
    /// Other fields of the record.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An organisation the user belongs to, as listed by the login reply.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Organization {
    /// The organisation id.
    pub id: OrganizationId,
    /// Its name.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// Whether the user is a member (as opposed to, e.g., a guest).
    #[serde(
        default,
        deserialize_with = "opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub member: Option<bool>,
}

/// The v3 `Paging` record; it is present only while more pages follow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Paging {
    /// The page this reply holds (1-based).
    #[serde(
        default,
        deserialize_with = "opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub page: Option<u32>,
    /// Items per page.
    #[serde(
        default,
        deserialize_with = "opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub per_page: Option<u32>,
    /// The next page's number.
    #[serde(
        default,
        deserialize_with = "opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub next: Option<u32>,
}
