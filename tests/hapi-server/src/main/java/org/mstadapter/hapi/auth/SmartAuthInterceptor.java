package org.mstadapter.hapi.auth;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.AuthenticationException;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import com.nimbusds.jwt.JWTClaimsSet;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes the server a SMART resource server: every request but the
 * CapabilityStatement needs a valid bearer token (401 otherwise), and each
 * interaction needs its scope (403 with an OperationOutcome naming the missing
 * scope otherwise): read → r, search → s, create → c, update and patch → u,
 * delete → d; a conditional create, update or delete also needs s on its type
 * (it searches); a transaction or batch needs the scopes of each of its entries.
 *
 * <p>Not checked: the targets of {@code _include}/{@code _revinclude}, and
 * page continuations ({@code _getpages}), whose search was checked when it ran.
 */
@Interceptor
public final class SmartAuthInterceptor {

	private static final Logger ourLog = LoggerFactory.getLogger(SmartAuthInterceptor.class);

	/** One required permission: e.g. search (s) on Procedure. */
	record Access(String resourceType, char permission, String what) {}

	private final TokenValidator validator;
	private final Set<String> seenTokens = ConcurrentHashMap.newKeySet();

	public SmartAuthInterceptor(TokenValidator validator) {
		this.validator = validator;
	}

	@Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLED)
	public void authorize(RequestDetails request, RestOperationTypeEnum operation) {
		if (operation == RestOperationTypeEnum.METADATA) {
			return;
		}
		SmartScopes scopes = new SmartScopes(scopeClaim(authenticate(request)));
		for (Access access : required(request, operation)) {
			if (!scopes.allows(access.resourceType(), access.permission())) {
				String message = "insufficient scope: " + access.what() + " needs "
						+ SmartScopes.scopeFor(access.resourceType(), access.permission());
				OperationOutcome outcome = new OperationOutcome();
				outcome.addIssue()
						.setSeverity(OperationOutcome.IssueSeverity.ERROR)
						.setCode(OperationOutcome.IssueType.FORBIDDEN)
						.setDiagnostics(message);
				ourLog.info("smart-auth: 403 {} {}: {}", request.getRequestType(), request.getRequestPath(), message);
				throw new ForbiddenOperationException(message, outcome);
			}
		}
	}

	private JWTClaimsSet authenticate(RequestDetails request) {
		String header = request.getHeader("Authorization");
		if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() <= 7) {
			throw unauthorized("a bearer token is required", "invalid_request");
		}
		JWTClaimsSet claims;
		try {
			claims = validator.validate(header.substring(7).trim());
		} catch (TokenValidator.InvalidTokenException e) {
			ourLog.info("smart-auth: 401 {} {}: {}", request.getRequestType(), request.getRequestPath(), e.getMessage());
			throw unauthorized("invalid bearer token: " + e.getMessage(), "invalid_token");
		}
		// The tests count the tokens a client used (renewal): log each one once.
		String jti = claims.getJWTID();
		if (jti != null && seenTokens.add(jti)) {
			ourLog.info("smart-auth: new token jti={} client={} exp={}", jti, claimString(claims, "azp"),
					claims.getExpirationTime().toInstant());
		}
		return claims;
	}

	private static AuthenticationException unauthorized(String message, String error) {
		AuthenticationException e = new AuthenticationException(message);
		e.addResponseHeader("WWW-Authenticate", "Bearer error=\"" + error + "\"");
		return e;
	}

	private static String scopeClaim(JWTClaimsSet claims) {
		return claimString(claims, "scope");
	}

	private static String claimString(JWTClaimsSet claims, String name) {
		try {
			return claims.getStringClaim(name);
		} catch (ParseException e) {
			return null;
		}
	}

	/** What this request does, as (resource type, permission) pairs. */
	static List<Access> required(RequestDetails request, RestOperationTypeEnum operation) {
		String type = request.getResourceName();
		String any = "*";
		return switch (operation) {
			case READ, VREAD, HISTORY_INSTANCE, HISTORY_TYPE, VALIDATE, META, EXTENDED_OPERATION_TYPE,
					EXTENDED_OPERATION_INSTANCE -> List.of(new Access(type, 'r', "reading " + type));
			case SEARCH_TYPE -> List.of(new Access(type, 's', "searching " + type));
			case CREATE -> withSearch(new Access(type, 'c', "creating " + type),
					request.getHeader("If-None-Exist") != null);
			case UPDATE, PATCH, META_ADD, META_DELETE -> withSearch(
					new Access(type, 'u', "updating " + type), request.getId() == null);
			case DELETE -> withSearch(new Access(type, 'd', "deleting " + type), request.getId() == null);
			case GET_PAGE -> List.of();
			case TRANSACTION, BATCH -> entries(request);
			case SEARCH_SYSTEM, HISTORY_SYSTEM -> List.of(new Access(any, 's', "a search across all types"));
			default -> List.of(new Access(any, 'r', operation.getCode() + " on the server"));
		};
	}

	/** A conditional interaction searches first: it also needs s on its type. */
	private static List<Access> withSearch(Access access, boolean conditional) {
		if (!conditional) {
			return List.of(access);
		}
		return List.of(access, new Access(access.resourceType(), 's', "the search of a conditional "
				+ access.what()));
	}

	private static List<Access> entries(RequestDetails request) {
		byte[] body = request.loadRequestContents();
		String text = body == null ? "" : new String(body, StandardCharsets.UTF_8).stripLeading();
		IParser parser = text.startsWith("<")
				? request.getFhirContext().newXmlParser()
				: request.getFhirContext().newJsonParser();
		Bundle bundle;
		try {
			bundle = parser.parseResource(Bundle.class, text);
		} catch (RuntimeException e) {
			throw new InvalidRequestException("the transaction is not a readable Bundle: " + e.getMessage());
		}
		List<Access> needed = new ArrayList<>();
		int index = 0;
		for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
			needed.addAll(entryAccess(entry.getRequest(), index++));
		}
		return needed;
	}

	private static List<Access> entryAccess(Bundle.BundleEntryRequestComponent req, int index) {
		String url = req.getUrl() == null ? "" : req.getUrl();
		boolean conditional = url.contains("?") || req.hasIfNoneExist();
		String path = url.split("\\?", 2)[0].replaceFirst("^/+", "");
		String[] parts = path.split("/");
		String type = parts[0].isEmpty() || parts[0].startsWith("$") ? "*" : parts[0];
		boolean instance = parts.length >= 2 && !parts[1].startsWith("$") && !parts[1].equals("_search");
		String where = " (entry " + index + ": " + req.getMethod() + " " + path + ")";
		if (req.getMethod() == null) {
			throw new InvalidRequestException("entry " + index + " has no request.method");
		}
		return switch (req.getMethod()) {
			case GET, HEAD -> List.of(instance
					? new Access(type, 'r', "reading " + type + where)
					: (parts.length >= 2 && parts[1].startsWith("$")
							? new Access(type, 'r', "an operation on " + type + where)
							: new Access(type, 's', "searching " + type + where)));
			case POST -> parts.length >= 2 && parts[1].equals("_search")
					? List.of(new Access(type, 's', "searching " + type + where))
					: withSearch(new Access(type, 'c', "creating " + type + where), conditional);
			case PUT, PATCH -> withSearch(new Access(type, 'u', "updating " + type + where), conditional);
			case DELETE -> withSearch(new Access(type, 'd', "deleting " + type + where), conditional);
			default -> throw new InvalidRequestException("entry " + index + ": unsupported method " + req.getMethod());
		};
	}
}
