package org.mstadapter.hapi.auth;

import com.nimbusds.jose.util.JSONObjectUtils;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.text.ParseException;
import java.time.Duration;
import java.util.Map;

/**
 * The authorization server's OpenID configuration ({@code <issuer>/.well-known/openid-configuration}):
 * where its signing keys and its token endpoint are. Fetched on first use, so
 * this server may start before the authorization server does.
 */
public final class IssuerMetadata {

	private final String issuer;
	private volatile Map<String, Object> document;

	public IssuerMetadata(String issuer) {
		this.issuer = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
	}

	public String issuer() {
		return issuer;
	}

	public String jwksUri() {
		return required("jwks_uri");
	}

	public String tokenEndpoint() {
		return required("token_endpoint");
	}

	private String required(String key) {
		Object value = load().get(key);
		if (!(value instanceof String s) || s.isBlank()) {
			throw new IllegalStateException("the issuer's openid-configuration has no " + key);
		}
		return s;
	}

	private Map<String, Object> load() {
		Map<String, Object> doc = document;
		if (doc != null) {
			return doc;
		}
		synchronized (this) {
			if (document == null) {
				document = fetch();
			}
			return document;
		}
	}

	private Map<String, Object> fetch() {
		String url = issuer + "/.well-known/openid-configuration";
		try {
			HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
			HttpResponse<String> response = client.send(
					HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).GET().build(),
					HttpResponse.BodyHandlers.ofString());
			if (response.statusCode() != 200) {
				throw new IllegalStateException(url + " answered " + response.statusCode());
			}
			Map<String, Object> doc = JSONObjectUtils.parse(response.body());
			if (!issuer.equals(doc.get("issuer"))) {
				throw new IllegalStateException(url + " names another issuer: " + doc.get("issuer"));
			}
			return doc;
		} catch (IOException | ParseException e) {
			throw new IllegalStateException("cannot read " + url + ": " + e.getMessage(), e);
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted reading " + url, e);
		}
	}
}
