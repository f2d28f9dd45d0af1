//! A minimal JSON client for the benchmarks' set-up calls and API load (hyper, keep-alive).

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};
use serde_json::{json, Value};

/// Posts JSON with a bearer key.
#[derive(Clone)]
pub struct Api {
    base: String,
    key: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Api {
    /// A client for the server at `base` (`http://host:port`).
    pub fn new(base: &str, key: &str) -> Api {
        let client = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        Api { base: base.to_string(), key: key.to_string(), client }
    }

    /// POSTs `body` to `path`; an answer other than 2xx is an error.
    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let request = hyper::Request::post(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.key))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))?;
        let response = self.client.request(request).await?;
        anyhow::ensure!(response.status().is_success(), "{path}: {}", response.status());
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// PATCHes `body` to `path`; an answer other than 2xx is an error.
    pub async fn patch(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let request = hyper::Request::patch(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.key))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))?;
        let response = self.client.request(request).await?;
        anyhow::ensure!(response.status().is_success(), "{path}: {}", response.status());
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// GETs `path`; answers the body as text (an answer other than 2xx is an error).
    pub async fn get_text(&self, path: &str) -> anyhow::Result<String> {
        let request = hyper::Request::get(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.key))
            .body(Full::new(Bytes::new()))?;
        let response = self.client.request(request).await?;
        anyhow::ensure!(response.status().is_success(), "{path}: {}", response.status());
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Creates a campaign from `campaign` and an approved affiliate on it.
    pub async fn program(&self, campaign: serde_json::Value) -> anyhow::Result<Program> {
        let campaign = self.post("/api/v1/campaigns", campaign).await?;
        let campaign_id = campaign["data"]["id"].as_str().context("campaign id")?.to_string();
        let code = campaign["data"]["trackingCode"].as_str().context("tracking code")?.to_string();
        let affiliate = self
            .post(
                "/api/v1/affiliates",
                json!({ "email": "bench@affiliates.test", "campaignId": campaign_id }),
            )
            .await?;
        let affiliate_id = affiliate["data"]["id"].as_str().context("affiliate id")?.to_string();
        Ok(Program { campaign_id, code, affiliate_id })
    }

    /// A `percent` % campaign and an approved affiliate: (campaign id, affiliate id).
    pub async fn campaign_with_affiliate(&self, percent: u32) -> anyhow::Result<(String, String)> {
        let body = json!({ "name": "Bench", "commissionType": "percentage", "commissionValue": percent });
        let program = self.program(body).await?;
        Ok((program.campaign_id, program.affiliate_id))
    }
}

/// A campaign and one affiliate on it.
pub struct Program {
    /// The campaign's id.
    pub campaign_id: String,
    /// The campaign's tracking code.
    pub code: String,
    /// The affiliate's id.
    pub affiliate_id: String,
}
