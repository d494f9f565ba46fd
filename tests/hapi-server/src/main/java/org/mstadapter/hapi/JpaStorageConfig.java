package org.mstadapter.hapi;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.batch2.maintenance.JobMaintenanceServiceImpl;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.IDaoRegistry;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings.ClientIdStrategyEnum;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.config.util.ResourceCountCacheUtil;
import ca.uhn.fhir.jpa.dao.FulltextSearchSvcImpl;
import ca.uhn.fhir.jpa.dao.IFulltextSearchSvc;
import ca.uhn.fhir.jpa.dao.search.HSearchSortHelperImpl;
import ca.uhn.fhir.jpa.dao.search.IHSearchSortHelper;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.config.SubscriptionSettings;
import ca.uhn.fhir.jpa.provider.DaoRegistryResourceSupportedSvc;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.jpa.search.IStaleSearchDeletingSvc;
import ca.uhn.fhir.jpa.search.StaleSearchDeletingSvcImpl;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import ca.uhn.fhir.jpa.util.ResourceCountCache;
import ca.uhn.fhir.rest.api.IResourceSupportedSvc;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import jakarta.persistence.EntityManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.core.env.Environment;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;
import org.springframework.transaction.annotation.EnableTransactionManagement;

import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Storage side of the server: HAPI's R4 JPA engine plus the beans HAPI expects
 * the hosting application to supply (persistence unit, transaction manager,
 * storage settings and a few leaf services).
 *
 * <p>Behaviour switches are read from {@code hapi.fhir.*} keys (the same key
 * names the official image's application.yaml uses), see
 * {@code src/main/resources/application.properties}. Defaults below are the
 * official image's defaults, so an unset key behaves as it would in Docker.
 */
@Configuration
@EnableTransactionManagement
@Import({
	JpaR4Config.class, // R4 DAOs, resource/system providers, search, transactions, validation chain
	ThreadPoolFactoryConfig.class, // thread pools used by search and batch GETs
	JpaBatch2Config.class, // batch framework that reindex/expunge/bulk jobs run on
	Batch2JobsConfig.class,
	SubscriptionChannelConfig.class // in-JVM message broker; batch2 sends its work notifications over it
})
public class JpaStorageConfig {

	private static final Logger ourLog = LoggerFactory.getLogger(JpaStorageConfig.class);

	/** Default page size of search results; the image's default. */
	static final int DEFAULT_PAGE_SIZE = 20;

	@Bean
	public JpaStorageSettings jpaStorageSettings(Environment env) {
		JpaStorageSettings settings = new JpaStorageSettings();

		ClientIdStrategyEnum idStrategy =
				ClientIdStrategyEnum.valueOf(env.getProperty("hapi.fhir.client_id_strategy", "ALPHANUMERIC"));
		settings.setResourceClientIdStrategy(idStrategy);

		// HAPI reuses the result set of an identical search run within this many
		// ms, so a test that writes then searches could see stale results. 0 (or
		// less) means "never reuse"; HAPI spells that as null.
		long reuseMillis = env.getProperty("hapi.fhir.reuse_cached_search_results_millis", Long.class, 60000L);
		settings.setReuseCachedSearchResultsForMillis(reuseMillis > 0 ? reuseMillis : null);

		settings.setEnforceReferentialIntegrityOnWrite(
				env.getProperty("hapi.fhir.enforce_referential_integrity_on_write", Boolean.class, true));
		settings.setEnforceReferentialIntegrityOnDelete(
				env.getProperty("hapi.fhir.enforce_referential_integrity_on_delete", Boolean.class, true));
		settings.setAllowExternalReferences(
				env.getProperty("hapi.fhir.allow_external_references", Boolean.class, false));
		settings.setAllowMultipleDelete(env.getProperty("hapi.fhir.allow_multiple_delete", Boolean.class, false));
		settings.setExpungeEnabled(env.getProperty("hapi.fhir.expunge_enabled", Boolean.class, true));
		settings.setAllowContainsSearches(env.getProperty("hapi.fhir.allow_contains_searches", Boolean.class, true));
		settings.setFilterParameterEnabled(env.getProperty("hapi.fhir.filter_search_enabled", Boolean.class, true));
		settings.setDefaultSearchParamsCanBeOverridden(
				env.getProperty("hapi.fhir.allow_override_default_search_params", Boolean.class, true));
		settings.setAutoCreatePlaceholderReferenceTargets(
				env.getProperty("hapi.fhir.auto_create_placeholder_reference_targets", Boolean.class, false));
		settings.setFetchSizeDefaultMaximum(
				env.getProperty("hapi.fhir.max_page_size", Integer.class, Integer.MAX_VALUE));
		settings.setExpireSearchResultsAfterMillis(
				env.getProperty("hapi.fhir.retain_cached_searches_mins", Long.class, 60L) * 60_000L);

		// Bulk Data $export runs as a Batch2 job. A new kick-off always starts a
		// new job: a reused one would answer with an earlier transactionTime.
		boolean bulkExport = env.getProperty("hapi.fhir.bulk_export_enabled", Boolean.class, false);
		settings.setEnableTaskBulkExportJobExecution(bulkExport);
		settings.setEnableBulkExportJobReuse(false);

		// No Hibernate Search / Lucene: full-text (_content, _text) is not offered.
		settings.setHibernateSearchIndexFullText(false);
		settings.setHibernateSearchIndexSearchParams(false);
		settings.setStoreResourceInHSearchIndex(false);
		settings.setLastNEnabled(false);

		ourLog.info(
				"MST HAPI storage: client_id_strategy={}, reuse_cached_search_results_millis={}, "
						+ "referential_integrity_on_write={}, allow_external_references={}",
				idStrategy,
				settings.getReuseCachedSearchResultsForMillis(),
				settings.isEnforceReferentialIntegrityOnWrite(),
				settings.isAllowExternalReferences());
		return settings;
	}

	/**
	 * How often Batch2's maintenance pass runs ({@code hapi.fhir.batch2_maintenance_interval_ms};
	 * HAPI's default is once a minute). A job moves from one step to the next
	 * only at a pass, so a Bulk Data export of a handful of resources takes
	 * four passes; the test server runs them every two seconds.
	 */
	@Bean
	public static BeanPostProcessor batch2MaintenanceInterval(Environment env) {
		long millis = env.getProperty("hapi.fhir.batch2_maintenance_interval_ms", Long.class, 60_000L);
		return new BeanPostProcessor() {
			@Override
			public Object postProcessAfterInitialization(Object bean, String name) {
				if (bean instanceof JobMaintenanceServiceImpl maintenance) {
					maintenance.setScheduledJobFrequencyMillis(millis);
				}
				return bean;
			}
		};
	}

	/** Partitioning off, as in the image's default configuration. */
	@Bean
	public PartitionSettings partitionSettings() {
		return new PartitionSettings();
	}

	/** No subscription channel types enabled (the image enables none by default). */
	@Bean
	public SubscriptionSettings subscriptionSettings() {
		return new SubscriptionSettings();
	}

	/**
	 * HAPI's persistence unit on the Boot-managed DataSource ({@code spring.datasource.*}),
	 * with Hibernate properties taken verbatim from {@code spring.jpa.properties.*}.
	 */
	@Bean
	@Primary
	public LocalContainerEntityManagerFactoryBean entityManagerFactory(
			ConfigurableListableBeanFactory beanFactory,
			FhirContext fhirContext,
			JpaStorageSettings storageSettings,
			DataSource dataSource,
			Environment env) {
		LocalContainerEntityManagerFactoryBean emf =
				HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
		emf.setPersistenceUnitName("HAPI_PU");
		emf.setDataSource(dataSource);
		Map<String, String> hibernate = Binder.get(env)
				.bind("spring.jpa.properties", Bindable.mapOf(String.class, String.class))
				.orElseGet(HashMap::new);
		emf.getJpaPropertyMap().putAll(hibernate);
		return emf;
	}

	@Bean
	@Primary
	public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
		return new JpaTransactionManager(entityManagerFactory);
	}

	// ---- leaf services HAPI's JPA config leaves to the application ----

	@Bean
	public IFulltextSearchSvc fullTextSearchSvc() {
		return new FulltextSearchSvcImpl();
	}

	@Bean
	public IHSearchSortHelper hSearchSortHelper(ISearchParamRegistry searchParamRegistry) {
		return new HSearchSortHelperImpl(searchParamRegistry);
	}

	/** Removes expired cached search results from the database. */
	@Bean
	public IStaleSearchDeletingSvc staleSearchDeletingSvc() {
		return new StaleSearchDeletingSvcImpl();
	}

	/** Paging through search results stored in the database (_getpages links). */
	@Bean
	public DatabaseBackedPagingProvider databaseBackedPagingProvider(Environment env) {
		DatabaseBackedPagingProvider paging = new DatabaseBackedPagingProvider();
		paging.setDefaultPageSize(env.getProperty("hapi.fhir.default_page_size", Integer.class, DEFAULT_PAGE_SIZE));
		paging.setMaximumPageSize(env.getProperty("hapi.fhir.max_page_size", Integer.class, Integer.MAX_VALUE));
		return paging;
	}

	@Bean
	public IResourceSupportedSvc resourceSupportedSvc(IDaoRegistry daoRegistry) {
		return new DaoRegistryResourceSupportedSvc(daoRegistry);
	}

	/** Resource counts shown in the CapabilityStatement; HAPI looks it up by this name. */
	@Bean(name = "myResourceCountsCache")
	public ResourceCountCache resourceCountsCache(IFhirSystemDao<?, ?> systemDao) {
		return ResourceCountCacheUtil.newResourceCountCache(systemDao);
	}
}
