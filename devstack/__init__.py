"""The local stack: DynamoDB Local, the durable-execution emulator, our Lambda gateway."""
