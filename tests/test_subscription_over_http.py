"""Subscriptions are served over WebSocket only; over HTTP they get a clear client error (R23)."""

from __future__ import annotations

from tests.conftest import GraphQLClient


async def test_a_subscription_sent_over_http_post_is_refused_clearly(gql: GraphQLClient) -> None:
    response = await gql.raw("subscription { deviceStatus { online } }")
    assert response.status_code == 400
    assert "subscription" in response.text.lower()
    assert "Unexpected error" not in response.text
