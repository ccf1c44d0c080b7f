//! Prints sizes of the types a session keeps per queue slot.
fn main() {
    println!(
        "OutgoingMessage {}",
        std::mem::size_of::<flowai_core::socket::OutgoingMessage>()
    );
    println!(
        "SessionEvent {}",
        std::mem::size_of::<flowai_core::socket::SessionEvent>()
    );
    println!(
        "Delivered {}",
        std::mem::size_of::<flowai_core::models::Delivered>()
    );
    println!("Error {}", std::mem::size_of::<flowai_core::Error>());
}
