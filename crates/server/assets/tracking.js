/* Refline tracking script (LinkJolt-compatible). Served by GET /api/tracking.js?id=<merchantId>.
   On a landing URL with ?tc=<code>&aff=<affiliate> it saves the referral (cookie + localStorage,
   last click wins) BEFORE sending the click beacon, exposes window.linkjolt.referral and puts the
   reference on Stripe Payment Links, Buy Buttons and Pricing Tables as client_reference_id. */
(function (w, d) {
  var C = __CONFIG__, KEY = "lj_ref", DAY = 864e5, TOKEN = /^[\w-]{1,64}$/;
  var s = d.currentScript, base = C.u;
  try { if (s && s.src) base = new URL(s.src).origin; } catch (e) {}

  function cookie(v, days) {
    d.cookie = KEY + "=" + encodeURIComponent(v) + ";max-age=" + Math.round(days * 86400) +
      ";path=/;SameSite=Lax" + (location.protocol == "https:" ? ";Secure" : "");
  }
  function save(ref, days) {
    cookie(ref, days);
    try { localStorage.setItem(KEY, JSON.stringify({ r: ref, e: Date.now() + days * DAY })); } catch (e) {}
  }
  function load() {
    var m = d.cookie.match(/(?:^|;\s*)lj_ref=([^;]*)/);
    if (m) return decodeURIComponent(m[1]);
    try {
      var v = JSON.parse(localStorage.getItem(KEY) || "null");
      if (v && v.r && v.e > Date.now()) { cookie(v.r, (v.e - Date.now()) / DAY); return v.r; }
    } catch (e) {}
    return null;
  }
  // Same shape as server ids: 8 characters of time (so ids sort by time), 12 random.
  function clickId() {
    var a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", t = Date.now(), r = "",
      b = new Uint8Array(12);
    for (var i = 0; i < 8; i++) { r = a[t % 62] + r; t = Math.floor(t / 62); }
    (w.crypto || w.msCrypto).getRandomValues(b);
    for (var j = 0; j < 12; j++) r += a[b[j] % 62];
    return "click_" + r;
  }
  function beacon(body) {
    var u = base + "/api/track/click", t = JSON.stringify(body);
    // text/plain keeps it a simple cross-origin request: no preflight, nothing to block.
    try { if (navigator.sendBeacon && navigator.sendBeacon(u, new Blob([t], { type: "text/plain" }))) return; } catch (e) {}
    try { fetch(u, { method: "POST", body: t, keepalive: true, mode: "cors", credentials: "omit",
      headers: { "Content-Type": "text/plain" } }); } catch (e) {}
  }

  var q = new URLSearchParams(location.search), tc = q.get("tc"), aff = q.get("aff"),
    cid = q.get("cid"), ref = null;
  if (tc && aff && TOKEN.test(tc) && TOKEN.test(aff)) {
    // A hosted redirect already recorded the click and passed its id along.
    var recorded = cid && /^click_\w{1,64}$/.test(cid);
    if (!recorded) cid = clickId();
    ref = "tc_" + tc + "_aff_" + aff + "_cid_" + cid;
    save(ref, (C.w && C.w[tc]) || C.d || 30);
    if (!recorded) beacon({ merchantId: C.m, tc: tc, aff: aff, clickId: cid, url: location.href, referrer: d.referrer });
  } else {
    ref = load();
  }
  w.linkjolt = { referral: ref, merchantId: C.m };

  function stripe() {
    var r = w.linkjolt.referral;
    if (!r) return;
    var links = d.querySelectorAll('a[href^="https://buy.stripe.com/"],a[href^="https://checkout.stripe.com/"]');
    for (var i = 0; i < links.length; i++) {
      try {
        var u = new URL(links[i].href);
        if (u.searchParams.get("client_reference_id") != r) {
          u.searchParams.set("client_reference_id", r);
          links[i].href = u.toString();
        }
      } catch (e) {}
    }
    var els = d.querySelectorAll("stripe-pricing-table,stripe-buy-button");
    for (var j = 0; j < els.length; j++)
      if (els[j].getAttribute("client-reference-id") != r) els[j].setAttribute("client-reference-id", r);
  }
  if (d.readyState == "loading") d.addEventListener("DOMContentLoaded", stripe); else stripe();
  if (w.MutationObserver) new MutationObserver(stripe).observe(d.documentElement, { childList: true, subtree: true });
})(window, document);
