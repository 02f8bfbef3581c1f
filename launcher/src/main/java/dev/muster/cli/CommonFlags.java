package dev.muster.cli;

import dev.muster.core.Log;

/**
 * The flags every command takes, read in one place: {@code --help}/{@code -h}, {@code --verbose}/{@code -v},
 * {@code --quiet}/{@code -q}. A command hands {@link #read} its own {@link FlagReader}; the loop over the options
 * is here, not in each command.
 */
final class CommonFlags {
    boolean help;
    boolean verbose;
    boolean quiet;

    /**
     * Reads the options up to the command or the first operand. Stops at {@code --help} (the rest is not read, so
     * {@code --help} works next to a mistake); an option neither common nor the command's is a usage error.
     */
    static CommonFlags read(Args a, FlagReader own) {
        CommonFlags c = new CommonFlags();
        c.readMore(a, own);
        return c;
    }

    /** Goes on reading into these flags, for commands whose operands and options interleave. */
    void readMore(Args a, FlagReader own) {
        while (!help && a.moreOptions()) {
            String flag = a.option();
            if (!common(flag, a) && !own.read(flag, a)) {
                throw a.unknown(flag);
            }
        }
    }

    private boolean common(String flag, Args a) {
        switch (flag) {
            case "--help", "-h" -> help = true;
            case "--verbose", "-v" -> {
                a.noValue(flag);
                verbose = true;
            }
            case "--quiet", "-q" -> {
                a.noValue(flag);
                quiet = true;
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** --verbose wins over --quiet; neither leaves the level {@link Options#presetLogLevel} set from the environment. */
    void applyLogLevel() {
        Log.level(verbose ? Log.Level.VERBOSE : quiet ? Log.Level.QUIET : Log.level());
    }
}
