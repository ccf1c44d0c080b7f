//! Link settings Node-API addons need on each platform.

fn main() {
    napi_build::setup();
}
