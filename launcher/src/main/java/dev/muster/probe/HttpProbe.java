package dev.muster.probe;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.time.Duration;

/**
 * Ready when a GET answers with the expected status ({@code =STATUS}), or any 2xx when none is given. Redirects
 * are not followed: a 302 is an answer from this server. {@link HttpURLConnection} rather than
 * {@code java.net.http}, whose module costs noticeably more start-up time on every task.
 */
public record HttpProbe(String spec, URL url, int expectedStatus) implements Probe {
    /** {@code expectedStatus} when any 2xx will do. */
    public static final int ANY_2XX = -1;
    /**
     * {@code expectedStatus} when any answer below 500 will do: the server is up and speaking HTTP (a 404 at the
     * root of an API server is an answer); a 5xx often means it is still warming up.
     */
    public static final int ANY_BELOW_500 = -2;

    /** A probe of {@code url} that passes on any answer below 500, for checking that an endpoint answers. */
    public static HttpProbe answering(String url) {
        try {
            return new HttpProbe(url + "<500", new URI(url).toURL(), ANY_BELOW_500);
        } catch (URISyntaxException | MalformedURLException | IllegalArgumentException e) {
            throw Probe.bad("url", url, "the URL is malformed: " + e.getMessage());
        }
    }

    static HttpProbe parse(String flag, String spec) {
        String u = spec;
        int status = ANY_2XX;
        int eq = spec.lastIndexOf('=');
        // "=NNN" at the very end is the status; an '=' elsewhere belongs to the URL's query
        if (eq > 0 && spec.length() - eq == 4 && spec.substring(eq + 1).chars().allMatch(c -> c >= '0' && c <= '9')) {
            status = Integer.parseInt(spec.substring(eq + 1));
            u = spec.substring(0, eq);
            if (status < 100 || status > 599) {
                throw Probe.bad(flag, spec, "status " + status + " is outside 100..599");
            }
        }
        try {
            URI uri = new URI(u);
            if (uri.getHost() == null || uri.getHost().isEmpty()) {
                throw Probe.bad(flag, spec, "the URL names no host");
            }
            return new HttpProbe(spec, uri.toURL(), status);
        } catch (URISyntaxException | MalformedURLException | IllegalArgumentException e) {
            throw Probe.bad(flag, spec, "the URL is malformed: " + e.getMessage());
        }
    }

    @Override
    public String attempt(Duration timeout) {
        HttpURLConnection c = null;
        try {
            c = (HttpURLConnection) url.openConnection();
            int ms = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            c.setConnectTimeout(ms);
            c.setReadTimeout(ms);
            c.setInstanceFollowRedirects(false);
            c.setUseCaches(false);
            int code = c.getResponseCode();
            drain(c);
            boolean ok = expectedStatus == ANY_2XX
                    ? code >= 200 && code < 300
                    : expectedStatus == ANY_BELOW_500 ? code >= 100 && code < 500 : code == expectedStatus;
            return ok
                    ? null
                    : url + " answered " + code
                            + (expectedStatus == ANY_2XX
                                    ? ", not 2xx"
                                    : expectedStatus == ANY_BELOW_500 ? ", a server error" : ", not " + expectedStatus);
        } catch (IOException e) {
            return url + ": " + e;
        } finally {
            if (c != null) {
                c.disconnect();
            }
        }
    }

    private static void drain(HttpURLConnection c) {
        try (InputStream in = c.getErrorStream() != null ? c.getErrorStream() : c.getInputStream()) {
            if (in != null) {
                in.readNBytes(64 * 1024);
            }
        } catch (IOException e) {
            // the status was all that mattered
        }
    }
}
