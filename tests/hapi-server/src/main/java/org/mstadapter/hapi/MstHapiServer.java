package org.mstadapter.hapi;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchClientAutoConfiguration;
import org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchRestClientAutoConfiguration;
import org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration;
import org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration;
import org.springframework.boot.autoconfigure.thymeleaf.ThymeleafAutoConfiguration;
import org.springframework.boot.web.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Entry point of the MST adapter's test HAPI FHIR server.
 *
 * <p>It runs HAPI FHIR's published JPA server engine (the same DAOs, search,
 * transaction processing and validation as the official {@code hapiproject/hapi}
 * image) inside Spring Boot's embedded Tomcat, on an in-memory H2 database, with
 * the FHIR base at {@code http://127.0.0.1:<port>/fhir}. It exists so integration
 * tests and the local demo can use a real HAPI server without Docker.
 *
 * <p>Port: system property {@code mst.hapi.port}, else environment variable
 * {@code MST_HAPI_PORT}, else Spring's own {@code server.port}, else 8080; 0
 * lets the OS pick a free port. When system property {@code mst.hapi.port-file}
 * names a file, the port actually bound is written there once the server
 * listens, so a launcher script can ask for port 0 without a race.
 */
@SpringBootApplication(
		exclude = {
			// HAPI brings Flyway (schema migrator), Elasticsearch clients and Thymeleaf
			// onto the classpath; Boot must not auto-configure them. The JPA
			// EntityManagerFactory is HAPI's own (see JpaStorageConfig).
			FlywayAutoConfiguration.class,
			ElasticsearchClientAutoConfiguration.class,
			ElasticsearchRestClientAutoConfiguration.class,
			ThymeleafAutoConfiguration.class,
			HibernateJpaAutoConfiguration.class
		})
public class MstHapiServer {

	public static void main(String[] args) {
		SpringApplication app = new SpringApplication(MstHapiServer.class);
		String port = System.getProperty("mst.hapi.port", System.getenv("MST_HAPI_PORT"));
		if (port != null && !port.isBlank()) {
			// A command-line --server.port still wins over this default.
			System.setProperty("server.port", port.trim());
		}
		app.addListeners(new PortFileWriter());
		app.run(args);
	}

	/** Writes the bound port to {@code mst.hapi.port-file}, if that property is set. */
	static final class PortFileWriter implements ApplicationListener<WebServerInitializedEvent> {
		@Override
		public void onApplicationEvent(WebServerInitializedEvent event) {
			writePortFile(event.getWebServer().getPort());
		}
	}

	private static void writePortFile(int port) {
		String portFile = System.getProperty("mst.hapi.port-file");
		if (portFile == null || portFile.isBlank()) {
			return;
		}
		Path target = Path.of(portFile);
		Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
		try {
			Files.writeString(tmp, port + "\n", StandardCharsets.US_ASCII);
			Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
		} catch (IOException e) {
			throw new UncheckedIOException("cannot write port file " + target, e);
		}
	}
}
