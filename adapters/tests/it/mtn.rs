//! The MTN MoMo adapter against a mock MTN (wiremock): every row of the answer mapping,
//! the token's life, and requests checked against MTN's own Swagger files.

mod conformance;
mod mapping;
mod support;
mod token;
