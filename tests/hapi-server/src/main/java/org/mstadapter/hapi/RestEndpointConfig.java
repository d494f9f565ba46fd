package org.mstadapter.hapi;

import ca.uhn.fhir.batch2.jobs.export.BulkDataExportProvider;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.provider.IJpaSystemProvider;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.provider.ValueSetOperationProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.narrative.DefaultThymeleafNarrativeGenerator;
import ca.uhn.fhir.narrative2.NullNarrativeGenerator;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.ETagSupportEnum;
import ca.uhn.fhir.rest.server.IncomingRequestAddressStrategy;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.interceptor.RequestValidatingInterceptor;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import ca.uhn.fhir.validation.IValidatorModule;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.mstadapter.hapi.auth.SmartAuthInterceptor;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

import java.util.List;

/**
 * REST side of the server: HAPI's {@link RestfulServer} servlet at {@code /fhir/*},
 * with every JPA resource provider, the system provider (transaction/batch
 * Bundles, system history), DB-backed paging and the JPA CapabilityStatement.
 */
@Configuration
public class RestEndpointConfig {

	private static final Logger ourLog = LoggerFactory.getLogger(RestEndpointConfig.class);

	@Bean
	public RestfulServer restfulServer(
			IFhirSystemDao<?, ?> systemDao,
			ResourceProviderFactory resourceProviderFactory,
			IJpaSystemProvider systemProvider,
			ValueSetOperationProvider valueSetOperationProvider,
			JpaStorageSettings storageSettings,
			ISearchParamRegistry searchParamRegistry,
			IValidationSupport validationSupport,
			IValidatorModule validatorModule,
			DatabaseBackedPagingProvider pagingProvider,
			ObjectProvider<SmartAuthInterceptor> smartAuth,
			ObjectProvider<BulkDataExportProvider> bulkExport,
			Environment env) {
		RestfulServer server = new RestfulServer(systemDao.getContext());

		// The image generates a narrative for resources that have none when it
		// encodes them (hapi.fhir.narrative_enabled, default true); keep that.
		boolean narratives = env.getProperty("hapi.fhir.narrative_enabled", Boolean.class, true);
		systemDao.getContext()
				.setNarrativeGenerator(
						narratives ? new DefaultThymeleafNarrativeGenerator() : new NullNarrativeGenerator());

		server.registerProviders(resourceProviderFactory.createProviders());
		server.registerProvider(systemProvider);
		server.registerProvider(valueSetOperationProvider); // $expand, $validate-code
		// $export, $export-poll-status (the image's hapi.fhir.bulk_export_enabled).
		if (env.getProperty("hapi.fhir.bulk_export_enabled", Boolean.class, false)) {
			server.registerProvider(bulkExport.getObject());
		}

		JpaCapabilityStatementProvider capabilities = new JpaCapabilityStatementProvider(
				server, systemDao, storageSettings, searchParamRegistry, validationSupport);
		capabilities.setImplementationDescription("MST adapter test HAPI FHIR R4 server");
		server.setServerConformanceProvider(capabilities);

		server.setPagingProvider(pagingProvider);
		server.setServerAddressStrategy(new IncomingRequestAddressStrategy());
		server.setDefaultResponseEncoding(EncodingEnum.JSON);
		server.setDefaultPrettyPrint(env.getProperty("hapi.fhir.default_pretty_print", Boolean.class, true));
		if (!env.getProperty("hapi.fhir.etag_support_enabled", Boolean.class, true)) {
			server.setETagSupport(ETagSupportEnum.DISABLED);
		}

		// Off by default (as in the image): writes are not profile-validated, only
		// an explicit $validate is. Turning it on makes invalid writes fail with 422.
		if (env.getProperty("hapi.fhir.validation.requests_enabled", Boolean.class, false)) {
			RequestValidatingInterceptor validating = new RequestValidatingInterceptor();
			validating.setFailOnSeverity(ResultSeverityEnum.ERROR);
			validating.setValidatorModules(List.of(validatorModule));
			server.registerInterceptor(validating);
		}
		// Only with mst.auth.issuer (SmartAuthConfig): bearer tokens and SMART scopes.
		smartAuth.ifAvailable(server::registerInterceptor);
		ourLog.info("MST HAPI REST: narratives={}, request validation={}, auth issuer={}", narratives,
				env.getProperty("hapi.fhir.validation.requests_enabled", "false"),
				env.getProperty("mst.auth.issuer", "none"));
		return server;
	}

	/** Mounts the FHIR servlet at /fhir/*, initialised at startup (not on first request). */
	@Bean
	public ServletRegistrationBean<RestfulServer> fhirServletRegistration(RestfulServer restfulServer) {
		ServletRegistrationBean<RestfulServer> registration =
				new ServletRegistrationBean<>(restfulServer, "/fhir/*");
		registration.setName("fhir");
		registration.setLoadOnStartup(1);
		return registration;
	}
}
