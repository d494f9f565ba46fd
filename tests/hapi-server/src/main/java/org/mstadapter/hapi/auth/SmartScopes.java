package org.mstadapter.hapi.auth;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code system/} scopes of an access token, as the permissions they grant.
 *
 * <p>Both syntaxes of SMART App Launch are read: 2.x ({@code system/Condition.rs},
 * letters in c r u d s order) and 1.0 ({@code system/Condition.read} = r s,
 * {@code .write} = c u d, {@code .*} = all). The resource type may be {@code *}.
 * Scopes with a v2 query suffix, and {@code user/} or {@code patient/} scopes,
 * grant nothing here: a backend service acts for the system.
 */
public final class SmartScopes {

	private static final Pattern SCOPE =
			Pattern.compile("system/([A-Za-z]+|\\*)\\.(read|write|\\*|c?r?u?d?s?)");

	/** Resource type ("*" included) to the permission letters granted for it. */
	private final Map<String, Set<Character>> granted = new HashMap<>();

	public SmartScopes(String scopeClaim) {
		if (scopeClaim == null) {
			return;
		}
		for (String scope : scopeClaim.trim().split("\\s+")) {
			Matcher m = SCOPE.matcher(scope);
			if (!m.matches() || m.group(2).isEmpty()) {
				continue;
			}
			String letters = switch (m.group(2)) {
				case "read" -> "rs";
				case "write" -> "cud";
				case "*" -> "cruds";
				default -> m.group(2);
			};
			Set<Character> set = granted.computeIfAbsent(m.group(1), k -> new HashSet<>());
			for (char c : letters.toCharArray()) {
				set.add(c);
			}
		}
	}

	/** True when the token may do {@code permission} (one of c r u d s) on {@code resourceType}. */
	public boolean allows(String resourceType, char permission) {
		return has(resourceType, permission) || has("*", permission);
	}

	private boolean has(String type, char permission) {
		Set<Character> set = granted.get(type);
		return set != null && set.contains(permission);
	}

	/** The v2 scope that would grant it, with its v1 equivalent, for messages. */
	public static String scopeFor(String resourceType, char permission) {
		String v1 = (permission == 'r' || permission == 's') ? "read" : "write";
		return "system/" + resourceType + "." + permission + " (v1: system/" + resourceType + "." + v1
				+ ")";
	}
}
