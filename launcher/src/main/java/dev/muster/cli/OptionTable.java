package dev.muster.cli;

import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A command's own options as a table, flag to action, for commands with a few options and no interplay between
 * them. The action gets the flag's name (for error messages) and the reader, from which it takes the value.
 */
final class OptionTable implements FlagReader {
    private final Map<String, BiConsumer<String, Args>> actions = new HashMap<>();

    OptionTable on(String flag, BiConsumer<String, Args> action) {
        actions.put(flag, action);
        return this;
    }

    @Override
    public boolean read(String flag, Args a) {
        BiConsumer<String, Args> action = actions.get(flag);
        if (action == null) {
            return false;
        }
        action.accept(flag, a);
        return true;
    }
}
