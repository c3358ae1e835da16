#pragma once
// Secrets in URLs (docs/reliability.md, issue 18): tile services want keys in the query
// (`?access_token=` for Mapbox, `?key=`, `?apikey=`), signed storage URLs carry their
// signature (`X-Amz-Signature`, Azure SAS `sig`), and a URL may hold `user:password@`.
// Every message, log line, reason or key that can hold a URL goes through redact_url
// before it is written anywhere, so a build's outputs never hold a credential.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace skyscript::imagery {

inline constexpr std::string_view redacted = "REDACTED";

// `text` with every secret replaced by REDACTED: the value of each query parameter whose
// name (case and `-`/`_` ignored, percent-encoding decoded) is token, key, sig, signature,
// secret, password, passwd, pwd, pass, credential, auth, authorization, app_code, access_code,
// session, session_id or jwt, or ends in token, key, secret, signature, password or credential (access_token,
// apikey, api_key, subscription-key, X-Amz-Signature, X-Amz-Credential,
// X-Amz-Security-Token, X-Goog-Signature, client_secret, ...), and the userinfo of
// `scheme://user:password@host`. `text` may be one URL (an xyz template, a /vsicurl/ path)
// or a message with URLs in it: each `name=value` after `?`, `&`, `;` or `#` (a fragment's
// token) is looked at, with spaces around the `=`, also percent-encoded (`%3Fsig%3D...` in
// GDAL's `/vsicurl?url=...`, `access%5Ftoken=`). And the token of `Bearer TOKEN`: a server's
// message may echo the Authorization header it was sent.
std::string redact_url(std::string_view text);

// A JSON document (a source's provenance: STAC item and asset URLs, ...) with redact_url
// applied to every string in it; "" when `json` is not valid JSON. For provenance read back
// from a state DB another build or an older version wrote, whose redaction knew fewer names.
std::string redact_json(std::string_view json);
// The same on a parsed document, in place (its strings redacted, nested ones too).
void redact_json_strings(nlohmann::ordered_json& doc);

// Whether a query parameter of this name holds a secret (exposed for tests).
bool secret_parameter(std::string_view name);

} // namespace skyscript::imagery
