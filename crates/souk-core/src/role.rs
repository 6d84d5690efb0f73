//! Platform roles. A role is what a user may do across the platform; a token's scopes narrow what
//! one credential may do on the user's behalf.

use crate::ValidationError;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Moderator,
    User,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Moderator, Role::User];

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "admin" => Ok(Role::Admin),
            "moderator" => Ok(Role::Moderator),
            "user" => Ok(Role::User),
            _ => Err(ValidationError::new(
                "role",
                "invalid_role",
                "must be admin, moderator or user",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Moderator => "moderator",
            Role::User => "user",
        }
    }

    /// Moderators and admins may act on other people's content.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Moderator)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
