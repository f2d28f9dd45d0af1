//! The example payloads of the spec (shared/spec/payment-webhooks.md), verbatim.

pub const STRIPE_CHECKOUT_COMPLETED: &str = r##"{
  "id": "evt_1PqXyZ2eZvKYlo2C0a1b2c3d",
  "object": "event",
  "api_version": "2025-03-31.basil",
  "created": 1751465619,
  "livemode": false,
  "pending_webhooks": 1,
  "request": { "id": null, "idempotency_key": null },
  "type": "checkout.session.completed",
  "data": {
    "object": {
      "id": "cs_test_a1RMSyzQu5Mk2cZYoAYLOCV9",
      "object": "checkout.session",
      "mode": "subscription",
      "status": "complete",
      "payment_status": "paid",
      "amount_subtotal": 2000,
      "amount_total": 1800,
      "currency": "usd",
      "total_details": { "amount_discount": 200, "amount_shipping": 0, "amount_tax": 0 },
      "discounts": [ { "coupon": null, "promotion_code": "promo_1QabcDEF" } ],
      "client_reference_id": "aff_7PtIfIqd",
      "metadata": { "ref": "jane" },
      "customer": "cus_SbGYl34MpG4nv5",
      "customer_details": { "email": "buyer@example.com", "name": "Test Buyer" },
      "customer_email": null,
      "subscription": "sub_1RgRPqEEXQJo9EEO",
      "invoice": "in_1RgRPqEEXQJo9EEO",
      "payment_intent": null,
      "livemode": false
    }
  }
}"##;

pub const STRIPE_INVOICE_PAID_RENEWAL: &str = r##"{
  "id": "evt_1Rh000000000000000000002",
  "object": "event",
  "api_version": "2025-03-31.basil",
  "created": 1754144019,
  "livemode": false,
  "type": "invoice.paid",
  "data": {
    "object": {
      "id": "in_1RhAAA",
      "object": "invoice",
      "billing_reason": "subscription_cycle",
      "status": "paid",
      "amount_due": 1800,
      "amount_paid": 1800,
      "total": 1800,
      "currency": "usd",
      "customer": "cus_SbGYl34MpG4nv5",
      "customer_email": "buyer@example.com",
      "parent": {
        "type": "subscription_details",
        "quote_details": null,
        "subscription_details": { "subscription": "sub_1RgRPqEEXQJo9EEO", "metadata": { "ref": "jane" } }
      },
      "discounts": [ "di_1RhBBB" ],
      "total_discount_amounts": [ { "amount": 200, "discount": "di_1RhBBB" } ],
      "period_start": 1751465613,
      "period_end": 1754144013
    }
  }
}"##;

pub const STRIPE_CHARGE_REFUNDED_PARTIAL: &str = r##"{ "id": "evt_…", "object": "event", "type": "charge.refunded", "api_version": "2025-03-31.basil",
  "data": { "object": { "id": "ch_3RgRPq", "object": "charge", "amount": 1800, "amount_captured": 1800,
    "amount_refunded": 500, "refunded": false, "currency": "usd", "customer": "cus_SbGYl34MpG4nv5",
    "payment_intent": "pi_3RgRPq", "billing_details": { "email": "buyer@example.com" }, "metadata": {} } } }"##;

pub const STRIPE_REFUND_CREATED: &str = r##"{ "id": "evt_…", "object": "event", "type": "refund.created",
  "data": { "object": { "id": "re_3RgRPq", "object": "refund", "amount": 500, "currency": "usd",
    "charge": "ch_3RgRPq", "payment_intent": "pi_3RgRPq", "status": "succeeded",
    "reason": "requested_by_customer", "metadata": {} } } }"##;

pub const STRIPE_DISPUTE_CLOSED: &str = r##"{ "id": "evt_…", "object": "event", "type": "charge.dispute.closed",
  "data": { "object": { "id": "dp_1RhCCC", "object": "dispute", "amount": 1800, "currency": "usd",
    "charge": "ch_3RgRPq", "payment_intent": "pi_3RgRPq", "reason": "fraudulent", "status": "lost" } } }"##;

pub const STRIPE_SUBSCRIPTION_DELETED: &str = r##"{ "id": "evt_…", "object": "event", "type": "customer.subscription.deleted",
  "data": { "object": { "id": "sub_1RgRPqEEXQJo9EEO", "object": "subscription", "customer": "cus_SbGYl34MpG4nv5",
    "status": "canceled", "cancel_at_period_end": false, "canceled_at": 1756822413, "ended_at": 1756822413,
    "cancellation_details": { "reason": "cancellation_requested" }, "metadata": { "ref": "jane" } } } }"##;

pub const PADDLE_TRANSACTION_COMPLETED: &str = r##"{
  "event_id": "evt_01h8e1jxjnw9ra6zarhnz1a7y1",
  "event_type": "transaction.completed",
  "occurred_at": "2023-08-22T07:15:45.366122Z",
  "notification_id": "ntf_01h8e1jxna32kc43ev1vkqsq8x",
  "data": {
    "id": "txn_01h8dzxgkvdwemdhbpcapj2tbj",
    "status": "completed",
    "origin": "web",
    "customer_id": "ctm_01h8e18bxp9hby49dnm8ewf0m0",
    "address_id": "add_01h8e18bzb5av13cd16m5gz214",
    "subscription_id": null,
    "discount_id": null,
    "currency_code": "USD",
    "collection_mode": "automatic",
    "custom_data": { "ref": "jane" },
    "billing_period": null,
    "invoice_number": null,
    "items": [ { "price": { "id": "pri_01gsz8x8sawmvhz1pv30nge1ke", "product_id": "pro_01gsz4t5hdjse780zja8vvr7jg",
                 "unit_price": { "amount": "3000", "currency_code": "USD" }, "billing_cycle": { "interval": "month", "frequency": 1 } },
                 "quantity": 10 } ],
    "details": {
      "totals": { "subtotal": "59900", "discount": "0", "tax": "5315", "total": "65215", "credit": "0",
                  "credit_to_balance": "0", "balance": "0", "grand_total": "65215", "fee": "3311",
                  "earnings": "56589", "currency_code": "USD" },
      "adjusted_totals": { "subtotal": "59900", "tax": "5315", "total": "65215", "grand_total": "65215",
                           "fee": "3311", "earnings": "56589", "currency_code": "USD" }
    },
    "payments": [ { "amount": "65215", "status": "captured", "captured_at": "2023-08-22T07:15:43.792797Z",
                    "method_details": { "type": "card", "card": { "type": "visa", "last4": "4242" } } } ],
    "created_at": "2023-08-22T06:46:35.440187Z",
    "updated_at": "2023-08-22T07:15:44.296867Z",
    "billed_at": "2023-08-22T07:15:44.296865Z"
  }
}"##;

pub const PADDLE_ADJUSTMENT_CREATED: &str = r##"{
  "event_id": "evt_01h8c6tc8aa58zqj6h8a13r103",
  "event_type": "adjustment.created",
  "occurred_at": "2023-08-21T14:08:43.786457Z",
  "notification_id": "ntf_01h8c6tcaga3vyfv0w5x9mznhg",
  "data": {
    "id": "adj_01h8c6tbrkpdd7vx61w7b1r0ap",
    "action": "refund",
    "type": "partial",
    "reason": "error",
    "status": "pending_approval",
    "transaction_id": "txn_01h8bxpvx398a7zbawb77y0kp5",
    "subscription_id": "sub_01h8bxswamxysj44zt5n48njwh",
    "customer_id": "ctm_01h8441jn5pcwrfhwh78jqt8hk",
    "currency_code": "USD",
    "totals": { "subtotal": "92", "tax": "8", "total": "100", "fee": "5", "earnings": "87", "currency_code": "USD" },
    "items": [ { "id": "adjitm_01h8c6tbrkpdd7vx61w86e52t8", "item_id": "txnitm_01h8bxryv3065dyh6103p3yg28",
                 "type": "partial", "amount": "100", "totals": { "subtotal": "92", "tax": "8", "total": "100" } } ],
    "created_at": "2023-08-21T14:08:43.297512Z"
  }
}"##;

pub const LS_ORDER_CREATED: &str = r##"{
  "meta": { "test_mode": false, "event_name": "order_created",
            "webhook_id": "2263ed9e-9700-497c-9fec-0d3faf4c8c5a", "custom_data": { "ref": "jane" } },
  "data": {
    "type": "orders", "id": "1234567",
    "attributes": {
      "store_id": 200567, "customer_id": 6287548, "identifier": "104e18a2-d755-4d4b-80c4-a6c1dcbe1c10",
      "order_number": 1001, "user_name": "Jane Buyer", "user_email": "buyer@example.com",
      "currency": "USD", "currency_rate": "1.0000", "subtotal": 999, "discount_total": 0, "tax": 200, "total": 1199,
      "subtotal_usd": 999, "discount_total_usd": 0, "tax_usd": 200, "total_usd": 1199,
      "refunded": false, "refunded_at": null, "refunded_amount": 0, "status": "paid",
      "first_order_item": { "id": 1, "order_id": 1234567, "product_id": 11, "variant_id": 22,
                            "product_name": "Pro", "variant_name": "Monthly", "price": 999, "test_mode": false },
      "test_mode": false, "created_at": "2025-07-12T09:56:48.000000Z", "updated_at": "2025-07-12T09:57:18.000000Z"
    }
  }
}"##;

pub const LS_SUBSCRIPTION_PAYMENT_SUCCESS: &str = r##"{
  "meta": { "test_mode": true, "event_name": "subscription_payment_success",
            "webhook_id": "2263ed9e-9700-497c-9fec-0d3faf4c8c5a", "custom_data": { "ref": "jane" } },
  "data": {
    "type": "subscription-invoices", "id": "3833712",
    "attributes": { "store_id": 200567, "subscription_id": 1334075, "customer_id": 6287548,
      "user_name": "Jane Buyer", "user_email": "buyer@example.com", "billing_reason": "renewal",
      "currency": "USD", "currency_rate": "1.00000000", "status": "paid", "refunded": false, "refunded_at": null,
      "subtotal": 999, "discount_total": 0, "tax": 0, "total": 999, "refunded_amount": 0, "total_usd": 999,
      "test_mode": true, "created_at": "2025-08-12T09:56:48.000000Z", "updated_at": "2025-08-12T09:57:18.000000Z" }
  }
}"##;

/// §4.7, joined into one line as the spec says the real body is.
pub const GUMROAD_SALE: &str = r##"seller_id=Gr8jNM3h_vQZC8rQqVqFZA%3D%3D&product_id=Kx9bZ2sIcK2xwB3ZEa5o-A%3D%3D&product_name=Course&permalink=abc&product_permalink=https%3A%2F%2Fseller.gumroad.com%2Fl%2Fabc&short_product_id=abc&email=buyer%40example.com&price=2900&gumroad_fee=290&currency=usd&quantity=1&discover_fee_charged=false&can_contact=true&referrer=direct&card%5Bvisual%5D=&card%5Btype%5D=&order_number=524459935&sale_id=FO8TXN-dbzWjwrQ5hgGvQ%3D%3D&sale_timestamp=2025-01-15T10%3A30%3A00Z&subscription_id=Q3c1m9sH7Z0bO6q8fQx0sQ%3D%3D&url_params%5Bref%5D=jane&offer_code=JANE10&is_recurring_charge=true&recurrence=monthly&is_gift_receiver_purchase=false&refunded=false&resource_name=sale&disputed=false&dispute_won=false"##;

pub const GOPAY_PAYMENT_PAID: &str = r##"{
  "id": 3000006542,
  "order_number": "ord_2025_0001",
  "state": "PAID",
  "amount": 139900,
  "currency": "CZK",
  "payment_instrument": "PAYMENT_CARD",
  "payer": { "contact": { "first_name": "Jana", "last_name": "Nováková", "email": "buyer@example.com",
                          "country_code": "CZE" } },
  "target": { "type": "ACCOUNT", "goid": 8123456789 },
  "recurrence": { "recurrence_cycle": "MONTH", "recurrence_period": 1, "recurrence_date_to": "2026-12-31",
                  "recurrence_state": "STARTED" },
  "additional_params": [ { "name": "ref", "value": "jane" } ],
  "lang": "cs",
  "gw_url": "https://gw.sandbox.gopay.com/gw/v3/bCcvmwTKK5hrJx2aGG8ZnFyBJhAvF"
}"##;

pub const CREEM_CHECKOUT_COMPLETED: &str = r##"{
  "id": "evt_5WHHcZPv7VS0YUsberIuOz",
  "eventType": "checkout.completed",
  "created_at": 1728734325927,
  "object": {
    "id": "ch_4l0N34kxo16AhRKUHFUuXr",
    "object": "checkout",
    "request_id": "my-request-id",
    "order": { "id": "ord_4aDwWXjMLpes4Kj4XqNnUA", "customer": "cust_1OcIK1GEuVvXZwD19tjq2z",
               "product": "prod_d1AY2Sadk9YAvLI0pj97f", "amount": 1000, "currency": "EUR", "status": "paid",
               "type": "recurring", "created_at": "2024-10-12T11:58:33.097Z", "mode": "local" },
    "product": { "id": "prod_d1AY2Sadk9YAvLI0pj97f", "name": "Monthly", "price": 1000, "currency": "EUR",
                 "billing_type": "recurring", "billing_period": "every-month", "mode": "local" },
    "customer": { "id": "cust_1OcIK1GEuVvXZwD19tjq2z", "object": "customer", "email": "buyer@example.com",
                  "name": "Tester Test", "country": "NL", "mode": "local" },
    "subscription": { "id": "sub_6pC2lNB6joCRQIZ1aMrTpi", "object": "subscription",
                      "product": "prod_d1AY2Sadk9YAvLI0pj97f", "customer": "cust_1OcIK1GEuVvXZwD19tjq2z",
                      "status": "active", "canceled_at": null, "metadata": { "ref": "jane" }, "mode": "local" },
    "custom_fields": [],
    "status": "completed",
    "metadata": { "ref": "jane" },
    "mode": "local"
  }
}"##;

pub const CREEM_REFUND_CREATED: &str = r##"{ "id": "evt_…", "eventType": "refund.created", "created_at": 1731326400000,
  "object": { "id": "ref_…", "object": "refund", "status": "succeeded", "refund_amount": 500,
    "refund_currency": "EUR", "reason": "requested_by_customer",
    "transaction": { "id": "tran_…", "object": "transaction", "amount": 1000, "amount_paid": 1000,
                     "currency": "EUR", "type": "invoice", "status": "partialRefund", "refunded_amount": 500,
                     "order": "ord_…", "subscription": "sub_…", "customer": "cust_…" },
    "order": "ord_…", "subscription": "sub_…", "customer": "cust_…", "created_at": 1731326399000, "mode": "prod" } }"##;

pub const POLAR_ORDER_PAID: &str = r##"{
  "type": "order.paid",
  "timestamp": "2025-05-01T10:00:00.000000Z",
  "data": {
    "id": "9f1e1b3a-0c0e-4a59-9a42-1f7f0a1b2c3d",
    "status": "paid", "paid": true, "billing_reason": "subscription_cycle",
    "subtotal_amount": 2000, "discount_amount": 200, "net_amount": 1800, "tax_amount": 0, "total_amount": 1800,
    "refunded_amount": 0, "refunded_tax_amount": 0, "currency": "usd",
    "customer_id": "5b1c…", "customer": { "id": "5b1c…", "email": "buyer@example.com", "external_id": null },
    "product_id": "…", "discount_id": "…", "subscription_id": "…", "checkout_id": null,
    "metadata": { "ref": "jane" }, "invoice_number": "POLAR-0001"
  }
}"##;
