package org.mstadapter.hapi.auth;

import com.nimbusds.jose.util.JSONObjectUtils;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /fhir/.well-known/smart-configuration}: SMART discovery for
 * backend services, pointing at the authorization server's token endpoint.
 */
public final class SmartConfigurationServlet extends HttpServlet {

	private final transient IssuerMetadata issuer;

	public SmartConfigurationServlet(IssuerMetadata issuer) {
		this.issuer = issuer;
	}

	@Override
	protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
		Map<String, Object> doc = new LinkedHashMap<>();
		try {
			doc.put("issuer", issuer.issuer());
			doc.put("jwks_uri", issuer.jwksUri());
			doc.put("token_endpoint", issuer.tokenEndpoint());
		} catch (IllegalStateException e) {
			response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE, "authorization server unavailable");
			return;
		}
		doc.put("grant_types_supported", List.of("client_credentials"));
		doc.put("token_endpoint_auth_methods_supported", List.of("private_key_jwt"));
		doc.put("token_endpoint_auth_signing_alg_values_supported", List.of("RS384", "ES384"));
		doc.put("scopes_supported", List.of("system/*.cruds", "system/*.*"));
		doc.put("capabilities", List.of("client-confidential-asymmetric", "permission-v1", "permission-v2"));
		response.setContentType("application/json");
		response.setCharacterEncoding("UTF-8");
		response.getWriter().write(JSONObjectUtils.toJSONString(doc));
	}
}
