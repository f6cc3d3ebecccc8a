//! The `--model` services argument. Durations, URLs and usage errors are
//! the workspace's shared vocabulary in `cli_support`.

use crate::model::{Service, parse_services};

/// A list of services given as one `NAME=LATENCY[~JITTER],...` argument.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceList(pub Vec<Service>);

/// A clap value parser for `NAME=LATENCY[~JITTER],...`.
pub fn services_arg(text: &str) -> Result<ServiceList, String> {
    parse_services(text)
        .map(ServiceList)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services() {
        assert!(services_arg("fast=20ms").is_ok());
        assert!(services_arg("fast").is_err());
    }
}
