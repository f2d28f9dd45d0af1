//! `refline`: the whole product in one binary.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match refline::run(std::env::args_os()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
