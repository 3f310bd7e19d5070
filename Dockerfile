# kendall in a container, for the Kubernetes Indexed Job in deploy/k8s/ (and any runner that
# hands out an index): a build stage with the Rust toolchain, then a small runtime image with
# the binary and the shipped scenarios only.
#
#   docker build -t kendall:0.1.0 .
#   docker run --rm kendall:0.1.0 analyze scenarios/mm1.toml --out /tmp/mm1
#
# The binary needs nothing at run time but the C library (charts use an embedded font).

FROM rust:1.90-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY benches benches
COPY assets assets
RUN cargo build --release --locked --bin kendall && strip target/release/kendall

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/kendall /usr/local/bin/kendall
COPY scenarios /opt/kendall/scenarios
WORKDIR /opt/kendall
ENTRYPOINT ["/usr/local/bin/kendall"]
