pub mod gobin;
