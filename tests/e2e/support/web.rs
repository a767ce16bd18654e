//! A browser-less client of the web application: one person's session cookie, forms sent as a
//! browser sends them from our own pages (`Sec-Fetch-Site: same-origin`), redirects not followed
//! so each answer can be checked.

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::redirect::Policy;

use super::TestApp;

pub struct WebClient {
    pub base: String,
    pub cookie: Option<String>,
    http: reqwest::Client,
}

/// A response's status, headers and body.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }
}

impl WebClient {
    pub fn new(app: &TestApp) -> WebClient {
        WebClient {
            base: app.address.clone(),
            cookie: None,
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
        }
    }

    async fn answer(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let request = match &self.cookie {
            Some(c) => request.header(COOKIE, c),
            None => request,
        };
        let response = request.send().await.expect("a response");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if let Some(set) = headers.get(SET_COOKIE).and_then(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or_default().to_owned();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        Answer {
            status,
            headers,
            body: response.text().await.unwrap_or_default(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let request = self.http.get(url);
        self.answer(request).await
    }

    /// A form sent from one of our own pages.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.post_with(path, form, &[("sec-fetch-site", "same-origin")])
            .await
    }

    pub async fn post_with(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Answer {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let mut request = self.http.post(url).form(form);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.answer(request).await
    }
}

impl TestApp {
    /// A sign-in link from `councilflow sign-in-link`, as a newcomer gets one.
    pub async fn sign_in_link(&self, person: &str, next: Option<&str>) -> String {
        let mut args = vec![
            "sign-in-link",
            "--person",
            person,
            "--public-url",
            &self.address,
        ];
        if let Some(next) = next {
            args.extend(["--next", next]);
        }
        let out = self.cli(&args).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// A web session for `person`, signed in through a link and its button.
    pub async fn web_session(&self, person: &str) -> WebClient {
        let link = self.sign_in_link(person, None).await;
        let mut client = WebClient::new(self);
        let answer = client.post(&link, &[]).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        assert!(client.cookie.is_some(), "signed in");
        client
    }
}
