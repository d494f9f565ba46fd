package org.mstadapter.hapi.auth;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Turned on by property {@code mst.auth.issuer} (the authorization server's
 * issuer URL, e.g. a Keycloak realm): SMART discovery at
 * {@code /fhir/.well-known/smart-configuration}, and the token and scope
 * checks that RestEndpointConfig registers. Without it the server stays open.
 */
@Configuration
@ConditionalOnProperty("mst.auth.issuer")
public class SmartAuthConfig {

	@Bean
	public IssuerMetadata issuerMetadata(Environment env) {
		return new IssuerMetadata(env.getRequiredProperty("mst.auth.issuer"));
	}

	@Bean
	public SmartAuthInterceptor smartAuthInterceptor(IssuerMetadata issuer) {
		return new SmartAuthInterceptor(new TokenValidator(issuer));
	}

	/** An exact servlet mapping wins over the FHIR servlet's /fhir/*. */
	@Bean
	public ServletRegistrationBean<SmartConfigurationServlet> smartConfiguration(IssuerMetadata issuer) {
		ServletRegistrationBean<SmartConfigurationServlet> registration = new ServletRegistrationBean<>(
				new SmartConfigurationServlet(issuer), "/fhir/.well-known/smart-configuration");
		registration.setName("smart-configuration");
		return registration;
	}
}
