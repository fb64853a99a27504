//! The Airtel Money adapter against a wiremock Airtel: every row of the mapping table, the
//! exact wire (headers, body, encrypted PIN), tokens under concurrency, and transport faults.

mod account;
mod collection;
mod disbursement;
mod enquiry;
mod harness;
mod transport;
