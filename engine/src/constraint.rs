//! Which constraint a PostgreSQL error names, as this code knows it: a Citus shard suffixes
//! its constraints' names with the shard's number (`payout_outcomes_pkey_102008`), so that
//! suffix is dropped (docs/cluster.md, "Sharding plan").

/// The name of the constraint `error` violated, without a shard's suffix.
pub fn violated(error: &tokio_postgres::Error) -> Option<&str> {
    error
        .as_db_error()
        .and_then(|db| db.constraint())
        .map(without_shard_suffix)
}

fn without_shard_suffix(name: &str) -> &str {
    match name.rsplit_once('_') {
        Some((base, shard)) if !shard.is_empty() && shard.bytes().all(|b| b.is_ascii_digit()) => {
            base
        }
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shards_number_is_dropped_and_nothing_else() {
        assert_eq!(
            without_shard_suffix("payout_outcomes_pkey_102008"),
            "payout_outcomes_pkey"
        );
        assert_eq!(
            without_shard_suffix("payout_outcomes_pkey"),
            "payout_outcomes_pkey"
        );
        assert_eq!(
            without_shard_suffix("payout_lines_msisdn_e164"),
            "payout_lines_msisdn_e164"
        );
        assert_eq!(without_shard_suffix("trailing_"), "trailing_");
    }
}
