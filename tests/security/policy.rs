//! (filled by the policy work)
