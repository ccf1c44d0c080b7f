// The path an Android app takes to the SDK: the C ABI of libflowai through JNA. Starts the
// emulator in this process (flowai_emulator_start), opens a session with the settings it
// gives, sends a text and receives the bot's reply through a JNA callback on a library
// thread, then closes everything. Exits 0 once a reply came.
//   javac -cp jna.jar -d out FlowaiSmoke.java
//   java -cp out:jna.jar -Djna.library.path=PREFIX/lib FlowaiSmoke
import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.PointerByReference;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

public final class FlowaiSmoke {
    /** The functions of include/flowai.h this test calls. */
    public interface Flowai extends Library {
        int flowai_emulator_start(String settingsJson, PointerByReference out, PointerByReference outSettingsJson);

        int flowai_emulator_stop(Pointer emulator);

        int flowai_open(String kind, String settingsJson, EventCallback onEvent, Pointer userData,
                Pointer freeUserData, PointerByReference out);

        int flowai_call(Pointer handle, String method, String argsJson, PointerByReference outJson);

        int flowai_close(Pointer handle);

        void flowai_free(Pointer handle);

        void flowai_string_free(Pointer s);

        String flowai_last_error_message();

        String flowai_version();
    }

    /** FlowaiEvent: kind, name, payload_json; borrowed for the callback only. */
    @Structure.FieldOrder({"kind", "name", "payloadJson"})
    public static final class FlowaiEvent extends Structure {
        public int kind;
        public String name;
        public String payloadJson;

        public FlowaiEvent(Pointer p) {
            super(p);
            read();
        }
    }

    /** FlowaiEventCallback: (void *user_data, const FlowaiEvent *event). */
    public interface EventCallback extends Callback {
        void invoke(Pointer userData, Pointer event);
    }

    private static final int FLOWAI_OK = 0;

    private static void check(Flowai lib, int status, String what) {
        if (status != FLOWAI_OK) {
            throw new IllegalStateException(what + " failed (" + status + "): " + lib.flowai_last_error_message());
        }
    }

    /** Take a string the library handed out, and free it. */
    private static String take(Flowai lib, PointerByReference ref) {
        Pointer p = ref.getValue();
        String text = p.getString(0, "UTF-8");
        lib.flowai_string_free(p);
        return text;
    }

    public static void main(String[] args) throws InterruptedException {
        Flowai lib = Native.load("flowai", Flowai.class);
        System.out.println("version " + lib.flowai_version());

        PointerByReference emulator = new PointerByReference();
        PointerByReference settings = new PointerByReference();
        check(lib, lib.flowai_emulator_start("{\"time_scale\": 0.01}", emulator, settings), "flowai_emulator_start");
        String settingsJson = take(lib, settings);

        CountDownLatch replied = new CountDownLatch(1);
        AtomicReference<String> reply = new AtomicReference<>();
        // A field of this frame for the session's whole life: the library calls it until
        // the CLOSED event, so the JVM must not collect it before flowai_close returns.
        EventCallback onEvent = (userData, eventPtr) -> {
            FlowaiEvent event = new FlowaiEvent(eventPtr);
            if ("reply".equals(event.name) && reply.compareAndSet(null, event.payloadJson)) {
                replied.countDown();
            }
        };
        PointerByReference session = new PointerByReference();
        check(lib, lib.flowai_open("session", settingsJson, onEvent, null, null, session), "flowai_open");
        PointerByReference delivered = new PointerByReference();
        check(lib, lib.flowai_call(session.getValue(), "send_text", "{\"text\": \"hi\"}", delivered), "send_text");
        System.out.println("delivered: " + take(lib, delivered));

        boolean got = replied.await(10, TimeUnit.SECONDS);
        check(lib, lib.flowai_close(session.getValue()), "flowai_close");
        lib.flowai_free(session.getValue());
        check(lib, lib.flowai_emulator_stop(emulator.getValue()), "flowai_emulator_stop");
        // Keeps the callback reachable until here (after flowai_close).
        java.lang.ref.Reference.reachabilityFence(onEvent);
        if (!got) {
            System.err.println("no reply within 10 s");
            System.exit(1);
        }
        System.out.println("bot: " + reply.get());
    }
}
