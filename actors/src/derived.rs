//! `message_part!`: the `From`/`TryFrom` pair ractor's derived references need, so that an
//! actor can be sent one variant of another actor's messages (`ActorRef::get_derived`),
//! for a variant that holds the part as it is.

/// `message_part!(SupervisorMsg::Membership(Membership))`: a `Membership` goes in as
/// `SupervisorMsg::Membership`, and comes back out of it.
macro_rules! message_part {
    ($message:ident :: $variant:ident ($part:ty)) => {
        impl From<$part> for $message {
            fn from(part: $part) -> $message {
                $message::$variant(part)
            }
        }

        impl TryFrom<$message> for $part {
            type Error = $message;

            fn try_from(message: $message) -> Result<$part, $message> {
                match message {
                    $message::$variant(part) => Ok(part),
                    other => Err(other),
                }
            }
        }
    };
}

pub(crate) use message_part;
