//! Signing in, for both sides that have people sign in: the dashboard (merchant users) and the
//! affiliate portal (affiliate people). One session layer ([`viewer`]: the cookie resolved
//! through the core, the pre-login CSRF cookie, the CSRF tokens a form may carry) and one set
//! of login, logout and password-reset pages ([`pages`]), parameterised by a [`Side`]: which
//! kind of person, which cookie, where the pages live, which layout frames them. The rules
//! themselves (hashing, expiry, throttle, single-use links) are the core's
//! (`refline_core::sign_in`).

pub mod pages;
pub mod side;
pub mod viewer;

pub use side::Side;
pub use viewer::Viewer;
