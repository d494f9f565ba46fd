package org.mstadapter.bench;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.hl7.fhir.r4.model.Bundle;

/**
 * Times HAPI FHIR's R4 JSON parser on one Bundle file: warm-up rounds first
 * (JIT, class loading and the context's model scan are not measured), then
 * timed rounds. Prints one JSON line with the median and minimum of wall and
 * process CPU time per parse (process CPU includes the GC and JIT threads, the
 * real cost of a parse on a shared machine).
 *
 * <p>Usage: HapiParseBench FILE [warmup-rounds] [timed-rounds]
 */
public final class HapiParseBench {
  private HapiParseBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: HapiParseBench FILE [warmup-rounds] [timed-rounds]");
      System.exit(2);
    }
    Path file = Path.of(args[0]);
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 15;
    String text = Files.readString(file, StandardCharsets.UTF_8);
    long bytes = Files.size(file);

    FhirContext ctx = FhirContext.forR4();
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    int entries = 0;
    for (int i = 0; i < warmup; i++) {
      entries = parse(ctx, text).getEntry().size();
    }
    double[] wallMs = new double[rounds];
    double[] cpuMs = new double[rounds];
    for (int i = 0; i < rounds; i++) {
      long cpu0 = os.getProcessCpuTime();
      long wall0 = System.nanoTime();
      Bundle b = parse(ctx, text);
      long wall1 = System.nanoTime();
      long cpu1 = os.getProcessCpuTime();
      if (b.getEntry().size() != entries) {
        throw new IllegalStateException("parse results differ between rounds");
      }
      wallMs[i] = (wall1 - wall0) / 1e6;
      cpuMs[i] = (cpu1 - cpu0) / 1e6;
    }
    System.out.printf(
        java.util.Locale.ROOT,
        "{\"parser\":\"HAPI FHIR %s R4 JsonParser\",\"java\":\"%s\",\"bytes\":%d,\"entries\":%d,"
            + "\"warmup\":%d,\"rounds\":%d,\"wall_ms_median\":%.3f,\"wall_ms_min\":%.3f,"
            + "\"cpu_ms_median\":%.3f,\"cpu_ms_min\":%.3f}%n",
        ca.uhn.fhir.util.VersionUtil.getVersion(),
        System.getProperty("java.version"),
        bytes,
        entries,
        warmup,
        rounds,
        median(wallMs),
        min(wallMs),
        median(cpuMs),
        min(cpuMs));
  }

  private static Bundle parse(FhirContext ctx, String text) {
    // A new parser per call, as a server or client does per request.
    IParser parser = ctx.newJsonParser();
    return parser.parseResource(Bundle.class, text);
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  private static double min(double[] v) {
    return Arrays.stream(v).min().orElse(Double.NaN);
  }
}
