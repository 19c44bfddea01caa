"""Requests to the sandbox built by hand from the provider references, sent over real loopback HTTP.

Nothing here imports the app's provider clients: the signing below is written from `providers/cryptomus.md`
and `providers/pay3.md` alone, so passing tests mean that a client written from the documents works.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

import httpx

from treasury_app.sandbox import ManualClock, RunningSandbox

MERCHANT = "8b7ef1b6-5c1f-4f0b-9b44-5a9d4b3c2a10"
PAYOUT_KEY = "sandbox-cryptomus-payout-key"
PAY3_CLIENT = "sandbox-client"
PAY3_SECRET = "sandbox-pay3-api-secret"

# From the Cryptomus seed's curl example. (The signing vectors' TXguLRFtrAFrEDA17WuPfrxB84jVzJcNNV has a bad
# base58check checksum, so a payout to it is refused whatever its sign.)
TRON_ADDRESS = "TDD97yguPESTpcrJMqU6h2ozZbibv4Vaqm"
EVM_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
BTC_ADDRESS = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
BTC_TESTNET_ADDRESS = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"


def php_json(data: Any) -> bytes:
    """The body as the official PHP SDK writes it: compact, `/` escaped, raw UTF-8 (cryptomus.md)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace("/", "\\/").encode()


def cryptomus_sign(body: bytes, key: str = PAYOUT_KEY) -> str:
    return hashlib.md5(base64.b64encode(body) + key.encode()).hexdigest()


def pay3_signature(signed: str, secret: str = PAY3_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()).decode()


def decimal_json(response: httpx.Response) -> Any:
    return json.loads(response.content, parse_float=Decimal)


@dataclass
class CryptomusClient:
    http: httpx.Client
    merchant: str = MERCHANT
    key: str = PAYOUT_KEY

    def send(self, path: str, body: bytes, *, sign: str | None = None, merchant: str | None = None,
             params: dict[str, str] | None = None) -> httpx.Response:
        headers = {"merchant": merchant or self.merchant, "sign": sign or cryptomus_sign(body, self.key),
                   "Content-Type": "application/json"}
        return self.http.post(path, content=body, headers=headers, params=params)

    def call(self, path: str, data: Any = None, **kwargs: Any) -> httpx.Response:
        return self.send(path, php_json({} if data is None else data), **kwargs)

    def create(self, **fields: Any) -> httpx.Response:
        return self.call("/v1/payout", payout_fields(**fields))

    def info(self, **fields: Any) -> httpx.Response:
        return self.call("/v1/payout/info", fields)

    def result(self, response: httpx.Response) -> Any:
        assert response.status_code == 200, response.text
        body = decimal_json(response)
        assert body["state"] == 0
        return body["result"]

    def merchant_balance(self, currency: str) -> Decimal:
        wallets = self.result(self.call("/v1/balance"))[0]["balance"]["merchant"]
        return next(Decimal(w["balance"]) for w in wallets if w["currency_code"] == currency)


def payout_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"amount": "10.50", "currency": "USDT", "network": "TRON", "order_id": "treasury-0001",
                              "address": TRON_ADDRESS, "is_subtract": True}
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


@dataclass
class Pay3Client:
    http: httpx.Client
    client_id: str = PAY3_CLIENT
    secret: str = PAY3_SECRET
    token: str | None = None

    def access_token(self, secret: str | None = None) -> httpx.Response:
        return self.http.post("/v1/client/access-token",
                              json={"clientId": self.client_id, "apiSecret": secret or self.secret})

    def login(self) -> str:
        response = self.access_token()
        assert response.status_code == 200, response.text
        self.token = response.json()["accessToken"]
        return self.token

    def estimate(self, *, signature: str | None = None, token: str | None = None, **overrides: Any) -> httpx.Response:
        body = {"requestId": "a1d4a50e-5577-4581-a980-98b03bc76260", "address": BTC_TESTNET_ADDRESS,
                "currency": "BTC-BitcoinTestnet", "amount": "0.0001", "clientId": self.client_id,
                "payerEmail": "user@email.com", "mode": "createEstimate"}
        body.update(overrides)
        signed = (f"address={body['address']}&amount={body['amount']}&currency={body['currency']}"
                  f"&requestId={body['requestId']}")
        headers = {"access-token": token or self.token or self.login(),
                   "signature": signature or pay3_signature(signed, self.secret)}
        return self.http.post("/v1/client/crypto-payout/create-order", json=body, headers=headers)

    def execute(self, request_id: str, order_token: str, *, signature: str | None = None) -> httpx.Response:
        body = {"token": order_token, "requestId": request_id, "clientId": self.client_id}
        headers = {"access-token": self.token or self.login(),
                   "signature": signature or pay3_signature(f"requestId={request_id}&token={order_token}", self.secret)}
        return self.http.post("/v1/client/crypto-payout/execute", json=body, headers=headers)

    def estimate_and_execute(self, request_id: str, **overrides: Any) -> httpx.Response:
        estimate = self.estimate(requestId=request_id, **overrides)
        assert estimate.status_code == 200, estimate.text
        return self.execute(request_id, estimate.json()["token"])

    def details(self, request_id: str, *, client_id: str | None = None, token: str | None = None) -> httpx.Response:
        return self.http.get("/v1/client/crypto-orders",
                             params={"requestId": request_id, "clientId": client_id or self.client_id},
                             headers={"access-token": token or self.token or self.login()})

    def order(self, request_id: str) -> dict[str, Any]:
        response = self.details(request_id)
        assert response.status_code == 200, response.text
        (order,) = response.json()["data"]
        return order


@dataclass
class Sandbox:
    running: RunningSandbox
    clock: ManualClock
    http: httpx.Client

    @cached_property
    def cryptomus(self) -> CryptomusClient:
        return CryptomusClient(self.http)

    @cached_property
    def pay3(self) -> Pay3Client:
        """One client per sandbox, so its access token is reused as a real client would."""
        return Pay3Client(self.http)

    def payouts(self, provider: str | None = None) -> list[dict[str, Any]]:
        params = {"provider": provider} if provider else None
        return self.http.get("/_sandbox/payouts", params=params).json()["payouts"]

    def add_faults(self, *specs: str) -> httpx.Response:
        return self.http.post("/_sandbox/faults", json={"faults": list(specs)})

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
